// What an end user's `jit` may ask the daemon over the local socket, always as the caller the kernel vouched for:
// check (decide for a file, and make sure the sudo right is written), track (the sudo process it started), request
// (ask for elevation, submitted by the daemon with its credential) and status (of the caller's own request).
import { normalizeUserName } from "../../core/names";
import { DURATION_PATTERN, durationMs } from "../../core/duration";
import type { AgentRequestView } from "../../core/protocol";
import { runCheck } from "../commands/check";
import { recordCheck } from "../events-queue";
import { probeIdentity } from "../probe/identity";
import { enqueue, getRequest, isUnreachable, newClientRef, submitRequest } from "../request-client";
import type { StateStore } from "../state";
import { syncOnce } from "../sync";
import type { SudoEnforcer } from "./enforcer";
import type { Caller, LocalHandler } from "./local-api";
import { verifySudoChild } from "./processes";

const str = (v: unknown, max = 4096): string | null => (typeof v === "string" && v.length > 0 && v.length <= max && !v.includes("\0") ? v : null);

export function localHandlers(store: StateStore, enforcer: SudoEnforcer, onSubmitted?: () => void): LocalHandler {
  const ownView = (caller: Caller, v: AgentRequestView) => normalizeUserName(v.user) === normalizeUserName(caller.user);

  return async (caller, req) => {
    switch (req.op) {
      case "check": {
        const path = str(req.path);
        if (!path || !path.startsWith("/")) return { error: "bad_request", message: "path must be an absolute path" };
        const now = new Date();
        let r = await runCheck(store, { user: caller.user, path, clsid: null }, now);
        if (r.allowed) {
          // The right must be in the drop-in before we say yes: sudo is what actually lets the command run.
          await enforcer.notePath(r.app.path);
          if (!enforcer.hasRight(caller.user, r.app.path, r.app.sha256)) {
            r = { ...r, allowed: false, source: null, expiresAt: null, reason: `allowed (${r.reason}), but the sudo right could not be written for it; see the agent's log` };
          }
        }
        try {
          await recordCheck(store, r, now);
        } catch (e) {
          if (r.allowed) r = { ...r, allowed: false, reason: `allowed, but it could not be recorded for the audit trail (${(e as Error).message}); denied` };
        }
        const settings = enforcer.currentBundle()?.requests;
        return {
          allowed: r.allowed,
          reason: r.reason,
          path: r.app.path,
          sha256: r.app.sha256 ?? null,
          expiresAt: r.expiresAt,
          source: r.source,
          canRequest: !r.allowed && Boolean(settings?.enabled),
          maxDuration: settings?.maxDuration ?? null,
          minJustificationLength: settings?.minJustificationLength ?? null,
        };
      }
      case "track": {
        const path = str(req.path);
        if (!path || typeof req.pid !== "number") return { error: "bad_request", message: "track needs pid and path" };
        const v = await verifySudoChild(req.pid, caller.uid, path);
        if ("refused" in v) return { error: "refused", message: v.refused };
        const probe = await probeIdentity(path);
        const d = await runCheck(store, { user: caller.user, path, clsid: null }, new Date());
        if (!d.allowed) return { error: "refused", message: d.reason };
        enforcer.track({ ...v, user: caller.user, app: probe.app, source: d.source, startedAt: new Date().toISOString() });
        return { ok: true, tracked: v.pid, expiresAt: d.expiresAt };
      }
      case "request": {
        const path = str(req.path);
        const duration = str(req.duration, 20);
        const reason = typeof req.reason === "string" ? req.reason.trim() : "";
        if (!path || !duration || !DURATION_PATTERN.test(duration)) return { error: "bad_request", message: "request needs path and a duration like 30m" };
        const config = await store.loadConfig();
        if (!config) return { error: "not_enrolled", message: "this computer is not enrolled" };
        const settings = enforcer.currentBundle()?.requests;
        if (settings && !settings.enabled) return { error: "refused", message: "elevation requests are turned off on this server" };
        if (settings && durationMs(duration)! > durationMs(settings.maxDuration)!) return { error: "refused", message: `the longest you may ask for is ${settings.maxDuration}` };
        if (settings && reason.length < settings.minJustificationLength) return { error: "refused", message: `the justification must be at least ${settings.minJustificationLength} characters` };
        const probe = await probeIdentity(path);
        if (!probe.ok || !probe.app.sha256) return { error: "refused", message: `cannot identify ${path}: ${probe.notes.join("; ")}` };
        const a = probe.app;
        const body = {
          user: caller.user,
          app: {
            path: a.path,
            sha256: a.sha256!,
            ...(a.packageName ? { packageName: a.packageName } : {}),
            ...(a.packageVersion ? { packageVersion: a.packageVersion } : {}),
            ...(a.vendor ? { vendor: a.vendor } : {}),
            ...(typeof a.verified === "boolean" ? { verified: a.verified } : {}),
          },
          duration,
          justification: reason,
          clientRef: newClientRef(),
        };
        try {
          const view = await submitRequest(config, body);
          onSubmitted?.();
          return { ok: true, request: view };
        } catch (e) {
          if (!isUnreachable(e)) return { error: "refused", message: (e as Error).message };
          await enqueue(store, body, new Date());
          return { ok: true, queued: true, message: (e as Error).message };
        }
      }
      case "status": {
        const id = str(req.id, 100);
        const wait = typeof req.wait === "number" ? Math.max(0, Math.min(25, Math.floor(req.wait))) : 0;
        if (!id) return { error: "bad_request", message: "status needs a request id" };
        const config = await store.loadConfig();
        if (!config) return { error: "not_enrolled", message: "this computer is not enrolled" };
        try {
          const view = await getRequest(config, id, wait);
          if (!ownView(caller, view)) return { error: "refused", message: "that is not your request" };
          if (view.status === "approved") {
            await syncOnce(store, config, { wait: 0 }).catch(() => {});
            await enforcer.refresh("request_approved");
          }
          return { ok: true, request: view };
        } catch (e) {
          return { error: isUnreachable(e) ? "unreachable" : "refused", message: (e as Error).message };
        }
      }
      default:
        return { error: "bad_request", message: `unknown op ${JSON.stringify(req.op).slice(0, 40)}` };
    }
  };
}
