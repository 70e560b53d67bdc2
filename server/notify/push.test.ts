import { describe, expect, it } from "vitest";
import { pushEndpointProblem, resolvedEndpointProblem, type Resolve } from "./push";

const resolvesTo = (...addresses: string[]): Resolve => async () => addresses.map((address) => ({ address }));

describe("push endpoints", () => {
  it("refuses plain http, credentials and private hosts by name", () => {
    expect(pushEndpointProblem("http://fcm.googleapis.com/x", false)).toMatch(/https/);
    expect(pushEndpointProblem("https://u:p@fcm.googleapis.com/x", false)).toMatch(/user name/);
    expect(pushEndpointProblem("https://10.1.2.3/x", false)).toMatch(/private network/);
    expect(pushEndpointProblem("https://[fd00::1]/x", false)).toMatch(/private network/);
    expect(pushEndpointProblem("http://127.0.0.1:9/x", true)).toBeNull();
  });

  it("refuses a public name that resolves into a private network, and retries one that does not resolve", async () => {
    expect(await resolvedEndpointProblem("https://push.example.com/x", false, resolvesTo("142.250.1.1"))).toBeNull();
    expect(await resolvedEndpointProblem("https://push.example.com/x", false, resolvesTo("142.250.1.1", "192.168.0.10"))).toEqual({ error: expect.stringMatching(/192\.168\.0\.10/), retry: false });
    expect(await resolvedEndpointProblem("https://push.example.com/x", false, resolvesTo("::1"))).toMatchObject({ retry: false });
    const failing: Resolve = async () => {
      throw Object.assign(new Error("getaddrinfo ENOTFOUND"), { code: "ENOTFOUND" });
    };
    expect(await resolvedEndpointProblem("https://push.example.com/x", false, failing)).toEqual({ error: expect.stringMatching(/ENOTFOUND/), retry: true });
    // Literal addresses were judged by pushEndpointProblem already; loopback names are allowed in tests.
    expect(await resolvedEndpointProblem("http://localhost:9/x", true, resolvesTo("127.0.0.1"))).toBeNull();
  });
});
