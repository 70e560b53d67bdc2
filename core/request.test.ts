import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { REQUEST_STATUSES, TERMINAL_STATUSES, isRequester, transition, type RequestEvent, type RequestState, type RequestStatus } from "./request";

const T = new Date("2026-03-02T10:00:00.000Z");
const later = (ms: number) => new Date(T.getTime() + ms);

const state = (status: RequestStatus, over: Partial<RequestState> = {}): RequestState => ({
  status,
  requester: "alice",
  requestedDuration: "30m",
  approvals: [],
  approvalsNeeded: 1,
  lapsesAt: status === "pending" ? later(3_600_000).toISOString() : null,
  startsAt: status === "approved" ? T.toISOString() : null,
  endsAt: status === "approved" ? later(1_800_000).toISOString() : null,
  ...over,
});

const dana = { type: "user" as const, id: "u-dana", email: "dana@example.com" };
const EVENTS: Record<RequestEvent["type"], RequestEvent> = {
  approve: { type: "approve", by: dana },
  decline: { type: "decline", by: dana, reason: "no" },
  cancel: { type: "cancel" },
  lapse: { type: "lapse" },
  revoke: { type: "revoke", by: dana },
  expire: { type: "expire" },
  end_early: { type: "end_early" },
};

// The whole table: for each state and event, the next status, or refused. Time-dependent events (lapse, expire)
// are tried when they are due (1 day later), the others at once.
const TABLE: Record<RequestStatus, Record<RequestEvent["type"], RequestStatus | "refused">> = {
  pending: { approve: "approved", decline: "declined", cancel: "cancelled", lapse: "lapsed", revoke: "refused", expire: "refused", end_early: "refused" },
  approved: { approve: "refused", decline: "refused", cancel: "refused", lapse: "refused", revoke: "revoked", expire: "expired", end_early: "revoked" },
  declined: { approve: "refused", decline: "refused", cancel: "refused", lapse: "refused", revoke: "refused", expire: "refused", end_early: "refused" },
  cancelled: { approve: "refused", decline: "refused", cancel: "refused", lapse: "refused", revoke: "refused", expire: "refused", end_early: "refused" },
  lapsed: { approve: "refused", decline: "refused", cancel: "refused", lapse: "refused", revoke: "refused", expire: "refused", end_early: "refused" },
  revoked: { approve: "refused", decline: "refused", cancel: "refused", lapse: "refused", revoke: "refused", expire: "refused", end_early: "refused" },
  expired: { approve: "refused", decline: "refused", cancel: "refused", lapse: "refused", revoke: "refused", expire: "refused", end_early: "refused" },
};

describe("request state machine", () => {
  for (const status of REQUEST_STATUSES) {
    for (const [type, want] of Object.entries(TABLE[status])) {
      it(`${status} + ${type} → ${want}`, () => {
        const at = type === "lapse" || type === "expire" ? later(86_400_000) : T;
        const r = transition(state(status), EVENTS[type as RequestEvent["type"]], at);
        if (want === "refused") expect(r).toHaveProperty("refused");
        else expect("next" in r && r.next.status).toBe(want);
      });
    }
  }

  it("terminal states refuse everything", () => {
    for (const s of TERMINAL_STATUSES) for (const e of Object.values(EVENTS)) expect(transition(state(s), e, later(86_400_000))).toHaveProperty("refused");
  });

  it("approval starts access now and ends it after the granted duration; shorter is allowed, longer is not", () => {
    const r = transition(state("pending"), { type: "approve", by: dana, duration: "15m" }, T);
    expect(r).toEqual({ next: expect.objectContaining({ status: "approved", startsAt: T.toISOString(), endsAt: later(15 * 60_000).toISOString() }) });
    expect(transition(state("pending"), { type: "approve", by: dana, duration: "1h" }, T)).toEqual({ refused: expect.stringMatching(/not lengthen/) });
    expect(transition(state("pending"), { type: "approve", by: dana, duration: "soon" }, T)).toHaveProperty("refused");
  });

  it("refuses the requester approving or declining their own request", () => {
    const self = { type: "user" as const, id: "u-alice", email: "Alice@Example.com" };
    expect(transition(state("pending"), { type: "approve", by: self }, T)).toEqual({ refused: "you cannot approve a request you raised" });
    expect(transition(state("pending"), { type: "decline", by: self, reason: "x" }, T)).toHaveProperty("refused");
    expect(isRequester("CORP\\alice", "alice@corp.example")).toBe(true);
    expect(isRequester("alice", "alicia@example.com")).toBe(false);
  });

  it("counts approvals by different people until enough, and never the same person twice", () => {
    const two = state("pending", { approvalsNeeded: 2 });
    const first = transition(two, { type: "approve", by: dana }, T);
    if (!("next" in first)) throw new Error("refused");
    expect(first.next).toMatchObject({ status: "pending", approvals: [{ userId: "u-dana" }] });
    expect(transition(first.next, { type: "approve", by: dana }, T)).toEqual({ refused: expect.stringMatching(/already approved this request/) });
    const second = transition(first.next, { type: "approve", by: { type: "user", id: "u-erin", email: "erin@example.com" } }, T);
    expect("next" in second && second.next.status).toBe("approved");
    // One decline ends it, whatever approvals came before.
    expect("next" in transition(first.next, EVENTS.decline, T) && "declined").toBe("declined");
  });

  it("an autonomous rule approves alone, even when the requester's name matches", () => {
    const r = transition(state("pending", { requester: "rule" }), { type: "approve", by: { type: "rule", id: "r1", name: "rule" } }, T);
    expect("next" in r && r.next.status).toBe("approved");
  });

  it("lapses and expires only when due; declining needs a reason", () => {
    expect(transition(state("pending"), EVENTS.lapse, T)).toHaveProperty("refused");
    expect(transition(state("pending"), EVENTS.lapse, later(3_600_000))).toEqual({ next: expect.objectContaining({ status: "lapsed" }) });
    expect(transition(state("approved"), EVENTS.expire, later(1_799_999))).toHaveProperty("refused");
    expect(transition(state("approved"), EVENTS.expire, later(1_800_000))).toEqual({ next: expect.objectContaining({ status: "expired" }) });
    expect(transition(state("pending"), { type: "decline", by: dana, reason: "  " }, T)).toHaveProperty("refused");
  });

  it("a pending request past its lapse time can no longer be approved or declined", () => {
    expect(transition(state("pending"), EVENTS.approve, later(3_600_000))).toEqual({ refused: expect.stringMatching(/lapsed at/) });
    expect(transition(state("pending"), EVENTS.decline, later(3_600_000))).toHaveProperty("refused");
    expect(transition(state("pending"), EVENTS.cancel, later(3_600_000))).toEqual({ next: expect.objectContaining({ status: "cancelled" }) });
  });

  it("revoke and end early move the end to now", () => {
    const r = transition(state("approved"), EVENTS.revoke, later(60_000));
    expect("next" in r && r.next.endsAt).toBe(later(60_000).toISOString());
  });

  it("never leaves a terminal state, whatever the sequence (property)", () => {
    const ev = fc.constantFrom(...Object.values(EVENTS));
    fc.assert(
      fc.property(fc.array(fc.tuple(ev, fc.integer({ min: 0, max: 2 * 86_400_000 })), { maxLength: 20 }), (steps) => {
        let s = state("pending");
        let ended = false;
        for (const [e, ms] of steps) {
          const r = transition(s, e, later(ms));
          if (ended) expect(r).toHaveProperty("refused");
          if ("next" in r) s = r.next;
          ended = TERMINAL_STATUSES.includes(s.status);
        }
      }),
    );
  });
});
