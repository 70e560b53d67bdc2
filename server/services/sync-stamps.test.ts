import { describe, expect, it } from "vitest";
import { documentsChangedBy } from "./sync-stamps";

describe("which replicated documents an audit event says were changed", () => {
  it.each([
    [{ type: "request.approved", requestId: "r1", computerId: "c1" }, [{ collection: "requests", id: "r1" }]],
    [{ type: "policy.deleted", policyId: "p1" }, [{ collection: "policies", id: "p1" }]],
    [{ type: "computer.enrolled", computerId: "c1" }, [{ collection: "computers", id: "c1" }]],
    [{ type: "agent.credential_revoked", computerId: "c1" }, [{ collection: "computers", id: "c1" }]],
    [{ type: "settings.changed" }, [{ collection: "settings", id: "settings" }]],
    // An agent's report names a request and a policy but changes neither; the allowlist stamps its own ids.
    [{ type: "agent.elevation_allowed", requestId: "r1", policyId: "p1", computerId: "c1" }, []],
    [{ type: "allowlist.changed" }, []],
  ] as const)("%j", (event, want) => {
    expect(documentsChangedBy(event)).toEqual(want);
  });
});
