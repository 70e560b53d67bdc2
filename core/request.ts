// User-initiated elevation requests: the shapes the console, jit-ctl and the agent read, and the request
// lifecycle as one pure state machine. pending → approved | declined | cancelled | lapsed; approved → revoked | expired.
import { z } from "zod";
import { DURATION_PATTERN, durationMs } from "./duration";
import { normalizeUserName } from "./names";

export const REQUEST_STATUSES = ["pending", "approved", "declined", "cancelled", "lapsed", "revoked", "expired"] as const;
export const RequestStatusSchema = z.enum(REQUEST_STATUSES);
export type RequestStatus = z.infer<typeof RequestStatusSchema>;

/** States from which nothing more can happen. */
export const TERMINAL_STATUSES: readonly RequestStatus[] = ["declined", "cancelled", "lapsed", "revoked", "expired"];

export const DurationTextSchema = z
  .string({ error: "expected a duration like 30m, 2h or 1d" })
  .trim()
  .refine((s) => DURATION_PATTERN.test(s), { error: (iss) => `expected a duration like 30m, 2h or 1d, got ${JSON.stringify(iss.input)}` });

/** The application as the agent probed it. Unknown facts are absent. */
export const RequestAppSchema = z.object({
  path: z.string().min(1).max(4096),
  sha256: z
    .string()
    .regex(/^[0-9a-fA-F]{64}$/, "expected a SHA-256 digest (64 hex characters)")
    .transform((s) => s.toLowerCase()),
  packageName: z.string().max(200).nullish(),
  packageVersion: z.string().max(200).nullish(),
  vendor: z.string().max(200).nullish(),
  verified: z.boolean().nullish(),
  clsid: z.string().max(100).nullish(),
});
export type RequestApp = z.infer<typeof RequestAppSchema>;

export const DeciderSchema = z.object({ type: z.enum(["user", "rule"]), id: z.string(), name: z.string() });
export type Decider = z.infer<typeof DeciderSchema>;

/** Who ended an approved request early: a console user (revoke) or the end user on the computer (done). */
export const EnderSchema = z.object({ type: z.enum(["user", "enduser", "system"]), id: z.string().nullable(), name: z.string() });
export type Ender = z.infer<typeof EnderSchema>;

export const ApprovalSchema = z.object({ userId: z.string(), email: z.string(), at: z.string() });
export type Approval = z.infer<typeof ApprovalSchema>;

export const RequestViewSchema = z.object({
  id: z.string(),
  computer: z.object({ id: z.string(), name: z.string() }),
  /** The end user's account name on the computer, as the agent reported it. */
  user: z.string(),
  app: RequestAppSchema,
  /** As asked, e.g. "30m". */
  requestedDuration: z.string(),
  justification: z.string(),
  status: RequestStatusSchema,
  createdAt: z.string(),
  /** Since when the request waits for a person (equals createdAt; kept apart for the console's "waiting" column). */
  waitingSince: z.string(),
  decidedAt: z.string().nullable(),
  decidedBy: DeciderSchema.nullable(),
  /** When the deciding admin made the decision on their device, when it was made offline and synced later (decidedAt is when the server accepted it). */
  decidedOfflineAt: z.string().nullable().optional(),
  /** Approvals recorded so far (two-person approval shows who approved). */
  approvals: z.array(ApprovalSchema),
  approvalsNeeded: z.number().int().min(1),
  grantedDuration: z.string().nullable(),
  startsAt: z.string().nullable(),
  /** When access ends (or ended: a revoke or an early end moves it to that moment). */
  endsAt: z.string().nullable(),
  note: z.string().nullable(),
  declineReason: z.string().nullable(),
  revokedBy: EnderSchema.nullable(),
  revokeReason: z.string().nullable(),
  /** An extension: the request whose grant this one extends. */
  extendsRequestId: z.string().nullable(),
  /** When the request lapses if nobody answers (pending only). */
  lapsesAt: z.string().nullable(),
  applied: z.object({
    /** The bundle version that carries the latest decision (approve, revoke, expiry), or null when none changes the bundle. */
    bundleVersion: z.number().int().nullable(),
    /** When the computer's agent reported holding that version. */
    appliedAt: z.string().nullable(),
    computerLastSeenAt: z.string().nullable(),
  }),
});
export type RequestView = z.infer<typeof RequestViewSchema>;

/** The console's tabs: pending; active (approved and not ended); history (everything that has ended). */
export const RequestListFilterSchema = z.enum(["pending", "active", "history"]);
export type RequestListFilter = z.infer<typeof RequestListFilterSchema>;

// ── The state machine ──────────────────────────────────────────────────────────────────────────────────

/** What the machine needs to know of a request. */
export type RequestState = {
  status: RequestStatus;
  /** The end user who asked (compared with a console user's name to refuse self-approval). */
  requester: string;
  requestedDuration: string;
  approvals: Approval[];
  approvalsNeeded: number;
  lapsesAt: string | null;
  startsAt: string | null;
  endsAt: string | null;
};

export type RequestEvent =
  | { type: "approve"; by: { type: "user"; id: string; email: string } | { type: "rule"; id: string; name: string }; duration?: string | null }
  | { type: "decline"; by: { type: "user"; id: string; email: string }; reason: string }
  | { type: "cancel" }
  | { type: "lapse" }
  | { type: "revoke"; by: { type: "user"; id: string; email: string } }
  | { type: "expire" }
  | { type: "end_early" };

export type Transition = { next: RequestState } | { refused: string };

/**
 * Is this console user the person who asked? End users are account names on computers; console users are
 * emails. The same person is assumed when the account name equals the email's local part (alice ↔ alice@corp).
 */
export function isRequester(requester: string, consoleEmail: string): boolean {
  const r = normalizeUserName(requester);
  return r.length > 0 && r === normalizeUserName(consoleEmail);
}

/** The request lifecycle, pure: time comes in as `now`, terminal states refuse everything. */
export function transition(state: RequestState, event: RequestEvent, now: Date): Transition {
  const at = now.toISOString();
  const s = state.status;
  if (TERMINAL_STATUSES.includes(s)) return { refused: `the request is already ${s}` };

  // A pending request past its lapse time can no longer be decided, even before the sweeper has marked it.
  const lapsed = s === "pending" && state.lapsesAt !== null && now.getTime() >= Date.parse(state.lapsesAt);
  if (lapsed && (event.type === "approve" || event.type === "decline")) return { refused: `the request lapsed at ${state.lapsesAt}: nobody answered it in time` };

  switch (event.type) {
    case "approve": {
      if (s !== "pending") return { refused: `the request is already ${s}` };
      const asked = durationMs(state.requestedDuration);
      if (asked === null) return { refused: `the requested duration ${state.requestedDuration} is not a duration` };
      let granted = state.requestedDuration;
      if (event.duration != null) {
        const ms = durationMs(event.duration);
        if (ms === null) return { refused: `${event.duration} is not a duration like 15m or 2h` };
        if (ms > asked) return { refused: `an approval may shorten the duration, not lengthen it: ${event.duration} is longer than the ${state.requestedDuration} asked` };
        granted = event.duration.trim();
      }
      if (event.by.type === "rule") {
        return { next: { ...state, status: "approved", startsAt: at, endsAt: new Date(now.getTime() + durationMs(granted)!).toISOString(), lapsesAt: null } };
      }
      const by = event.by;
      if (isRequester(state.requester, by.email)) return { refused: "you cannot approve a request you raised" };
      if (state.approvals.some((a) => a.userId === by.id)) return { refused: `${by.email} has already approved this request; another person must approve it` };
      const approvals = [...state.approvals, { userId: by.id, email: by.email, at }];
      if (approvals.length < state.approvalsNeeded) return { next: { ...state, approvals } };
      return {
        next: { ...state, status: "approved", approvals, startsAt: at, endsAt: new Date(now.getTime() + durationMs(granted)!).toISOString(), lapsesAt: null },
      };
    }
    case "decline":
      if (s !== "pending") return { refused: `the request is already ${s}` };
      if (isRequester(state.requester, event.by.email)) return { refused: "you cannot decide a request you raised" };
      if (!event.reason.trim()) return { refused: "give a reason for declining" };
      return { next: { ...state, status: "declined", lapsesAt: null } };
    case "cancel":
      if (s !== "pending") return { refused: `only a pending request can be cancelled; this one is ${s}` };
      return { next: { ...state, status: "cancelled", lapsesAt: null } };
    case "lapse":
      if (s !== "pending") return { refused: `only a pending request can lapse; this one is ${s}` };
      if (!state.lapsesAt || now.getTime() < Date.parse(state.lapsesAt)) return { refused: `the request does not lapse before ${state.lapsesAt ?? "never"}` };
      return { next: { ...state, status: "lapsed", lapsesAt: null } };
    case "revoke":
      if (s !== "approved") return { refused: `only approved access can be revoked; this request is ${s}` };
      return { next: { ...state, status: "revoked", endsAt: at } };
    case "end_early":
      if (s !== "approved") return { refused: `only approved access can be ended; this request is ${s}` };
      return { next: { ...state, status: "revoked", endsAt: at } };
    case "expire":
      if (s !== "approved") return { refused: `only approved access can expire; this request is ${s}` };
      if (!state.endsAt || now.getTime() < Date.parse(state.endsAt)) return { refused: `the access does not end before ${state.endsAt}` };
      return { next: { ...state, status: "expired" } };
  }
}
