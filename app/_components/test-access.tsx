"use client";
// Test access: pick a computer, a user and an application identity, and see the decision and its trace, worked out
// in the browser by core's decide() on that computer's current bundle: the same function the agent decides with.
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useId, useState, type FormEvent } from "react";
import { decide, type AppIdentity, type Decision, type PolicyEvaluation } from "../../core/decide";
import { errorMessage } from "../_lib/errors";
import { formatExact } from "../_lib/format";
import { useTRPC } from "../_lib/trpc";
import { Alert, Badge, Button, cx, Field, inputClass, Panel } from "./ui";

const OUTCOME_LABELS: Record<PolicyEvaluation["outcome"], string> = {
  matched: "Matched",
  not_yet_active: "Not yet active",
  ended: "Ended",
  user_not_covered: "User not covered",
  app_not_covered: "Application not covered",
};

type AppFields = { path: string; sha256: string; vendor: string; product: string; version: string; verified: "unknown" | "yes" | "no"; clsid: string };
const EMPTY: AppFields = { path: "", sha256: "", vendor: "", product: "", version: "", verified: "unknown", clsid: "" };

function toIdentity(f: AppFields): AppIdentity {
  const opt = (s: string) => (s.trim() === "" ? null : s.trim());
  return {
    path: f.path.trim(),
    sha256: opt(f.sha256),
    vendor: opt(f.vendor),
    packageName: opt(f.product),
    packageVersion: opt(f.version),
    verified: f.verified === "unknown" ? null : f.verified === "yes",
    clsid: opt(f.clsid),
  };
}

type Result = { computerName: string; bundleVersion: number; at: string; decision: Decision };

/** `computerNames`: prefer these computers (a policy's) in the picker. */
export function TestAccess({ preferComputers, title = "Test access" }: { preferComputers?: readonly string[]; title?: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const uid = useId().replace(/[^a-zA-Z0-9]/g, "");
  const id = (name: string) => `ta-${uid}-${name}`;
  const computers = useQuery(trpc.computers.list.queryOptions());
  const [computerId, setComputerId] = useState("");
  const [user, setUser] = useState("");
  const [app, setApp] = useState<AppFields>(EMPTY);
  const [errors, setErrors] = useState<Record<string, string[]>>({});
  const [result, setResult] = useState<Result | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const list = computers.data?.computers ?? [];
  const preferred = new Set((preferComputers ?? []).map((n) => n.toLowerCase()));
  const sorted = [...list].sort((a, b) => Number(preferred.has(b.name.toLowerCase())) - Number(preferred.has(a.name.toLowerCase())) || a.name.localeCompare(b.name));
  const chosen = computerId || sorted[0]?.id || "";

  async function submit(e: FormEvent) {
    e.preventDefault();
    const next: Record<string, string[]> = {};
    if (!chosen) next.computer = ["Enroll a computer first: Test access decides with a computer's bundle."];
    if (user.trim() === "") next.user = ["Enter the user name to test."];
    if (app.path.trim() === "") next.path = ["Enter the application's path (the resolved path, as the agent probes it)."];
    if (app.sha256.trim() !== "" && !/^[0-9a-fA-F]{64}$/.test(app.sha256.trim())) next.sha256 = ["A SHA-256 digest is 64 hex characters."];
    setErrors(next);
    if (Object.keys(next).length > 0) return;
    setBusy(true);
    setFailure(null);
    try {
      const preview = await queryClient.fetchQuery({ ...trpc.computers.bundlePreview.queryOptions({ computerId: chosen }), staleTime: 0 });
      const decision = decide(preview.bundle, { user: user.trim(), app: toIdentity(app), at: new Date(preview.serverTime) }, { trace: "rules" });
      setResult({ computerName: preview.bundle.computer.name, bundleVersion: preview.bundle.version, at: preview.serverTime, decision });
    } catch (err) {
      setResult(null);
      setFailure(errorMessage(err));
    } finally {
      setBusy(false);
    }
  }

  const set = (k: keyof AppFields) => (e: { target: { value: string } }) => setApp((a) => ({ ...a, [k]: e.target.value }));
  const text = (k: Exclude<keyof AppFields, "verified">, label: string, hint?: string, mono = false) => (
    <Field id={id(k)} label={label} hint={hint} errors={errors[k]} optional={k !== "path"}>
      {(p) => <input {...p} autoComplete="off" autoCapitalize="off" spellCheck={false} value={app[k]} onChange={set(k)} className={cx(inputClass, mono && "font-mono")} />}
    </Field>
  );

  return (
    <section aria-labelledby={id("title")} className="space-y-4">
      <Panel className="p-5 sm:p-6">
        <h2 id={id("title")} className="text-base font-semibold text-zinc-900">
          {title}
        </h2>
        <p className="mt-1 text-sm text-zinc-500">
          Decide as the agent would, now: the computer&apos;s current bundle, a user, and an application as the agent&apos;s probe describes it. Nothing is
          elevated and nothing is recorded.
        </p>
        <form onSubmit={submit} noValidate className="mt-5 space-y-5">
          <div className="grid gap-4 sm:grid-cols-2">
            <Field id={id("computer")} label="Computer" errors={errors.computer}>
              {(p) => (
                <select {...p} value={chosen} onChange={(e) => setComputerId(e.target.value)} className={inputClass} disabled={list.length === 0}>
                  {list.length === 0 && <option value="">No computers enrolled</option>}
                  {sorted.map((c) => (
                    <option key={c.id} value={c.id}>
                      {c.name}
                    </option>
                  ))}
                </select>
              )}
            </Field>
            <Field id={id("user")} label="User" hint="The account name on the computer (DOMAIN\user and user@domain work too)." errors={errors.user}>
              {(p) => <input {...p} autoComplete="off" autoCapitalize="off" spellCheck={false} value={user} onChange={(e) => setUser(e.target.value)} className={inputClass} />}
            </Field>
          </div>
          <fieldset className="space-y-4">
            <legend className="text-sm font-medium text-zinc-800">Application</legend>
            <div className="grid gap-4 sm:grid-cols-2">
              {text("path", "Path", "The resolved path, e.g. /usr/bin/dpkg.")}
              {text("sha256", "SHA-256", undefined, true)}
              {text("vendor", "Vendor")}
              {text("product", "Product", "The Debian package that owns the file.")}
              {text("version", "Product version")}
              <Field id={id("verified")} label="Verified">
                {(p) => (
                  <select {...p} value={app.verified} onChange={(e) => setApp((a) => ({ ...a, verified: e.target.value as AppFields["verified"] }))} className={inputClass}>
                    <option value="unknown">Unknown</option>
                    <option value="yes">Yes: the file is the package&apos;s own</option>
                    <option value="no">No</option>
                  </select>
                )}
              </Field>
              {text("clsid", "CLSID", undefined, true)}
            </div>
          </fieldset>
          <div className="flex justify-end">
            <Button type="submit" disabled={busy} aria-busy={busy || undefined}>
              Test access
            </Button>
          </div>
        </form>
      </Panel>
      <div aria-live="polite">
        {failure && <Alert title="Could not test access">{failure}</Alert>}
        {result && <TestResult result={result} />}
      </div>
    </section>
  );
}

function TestResult({ result }: { result: Result }) {
  const d = result.decision;
  return (
    <Panel className="p-5 sm:p-6">
      <div role="status" aria-label="Test access result" className="space-y-1">
        <p className="flex items-center gap-2 text-lg font-semibold">
          {d.allowed ? <Badge className="bg-emerald-50 text-emerald-800 ring-emerald-300">Allowed</Badge> : <Badge className="bg-red-50 text-red-800 ring-red-300">Denied</Badge>}
        </p>
        <p className="text-sm text-zinc-800">{d.reason}</p>
        {d.expiresAt && (
          <p className="text-sm text-zinc-600">
            Until <time dateTime={d.expiresAt}>{formatExact(d.expiresAt)}</time>
          </p>
        )}
        <p className="text-xs text-zinc-500">
          {result.computerName}, bundle version {result.bundleVersion}, at <time dateTime={result.at}>{formatExact(result.at)}</time>
        </p>
      </div>
      <h3 className="mt-5 text-sm font-semibold text-zinc-900">Trace</h3>
      {d.evaluated.length === 0 && d.evaluatedGrants.length === 0 ? (
        <p className="mt-1 text-sm text-zinc-500">The bundle holds no policies or grants for this computer.</p>
      ) : (
        <ul aria-label="Trace" className="mt-2 space-y-3">
          {d.evaluated.map((ev) => (
            <li key={ev.policyId} className="rounded-lg border border-zinc-200 p-3 text-sm">
              <div className="flex flex-wrap items-center gap-2">
                <span className="font-medium text-zinc-900">Policy {ev.policyName}</span>
                <Badge className={ev.outcome === "matched" ? "bg-emerald-50 text-emerald-800 ring-emerald-300" : "bg-zinc-50 text-zinc-700 ring-zinc-300"}>{OUTCOME_LABELS[ev.outcome]}</Badge>
              </div>
              <p className="mt-1 text-zinc-600">{ev.detail}</p>
              {ev.rules && ev.rules.length > 0 && (
                <ul className="mt-2 space-y-0.5 text-xs">
                  {ev.rules.map((r, i) => (
                    <li key={i} className={r.matched ? "text-emerald-800" : "text-zinc-600"}>
                      <span aria-hidden="true">{r.matched ? "✓" : "✗"}</span> <span className="font-mono break-all">{r.rule}</span>: {r.detail}
                    </li>
                  ))}
                </ul>
              )}
            </li>
          ))}
          {d.evaluatedGrants.map((g) => (
            <li key={g.grantId} className="rounded-lg border border-zinc-200 p-3 text-sm">
              <div className="flex flex-wrap items-center gap-2">
                <span className="font-medium text-zinc-900">Approved request {g.requestId}</span>
                <Badge className={g.outcome === "matched" ? "bg-emerald-50 text-emerald-800 ring-emerald-300" : "bg-zinc-50 text-zinc-700 ring-zinc-300"}>{OUTCOME_LABELS[g.outcome]}</Badge>
              </div>
              <p className="mt-1 text-zinc-600">{g.detail}</p>
            </li>
          ))}
        </ul>
      )}
    </Panel>
  );
}
