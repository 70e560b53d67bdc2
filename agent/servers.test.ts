// Fail-over between servers: the next one on "down" (refused, timeout, 5xx), never on a refusal; the one that
// answered is tried first next time.
import { describe, expect, it } from "vitest";
import { AgentHttpError } from "./client";
import { serverList, serversInTurn, withFailover } from "./servers";

const config = (token: string) => ({ server: "http://a", servers: ["http://a", "http://b", "http://c"], agentToken: token });

describe("withFailover", () => {
  it("uses `server` alone when no list was enrolled", () => {
    expect(serverList({ server: "http://lb" })).toEqual(["http://lb"]);
  });

  it("moves past servers that are down and remembers the one that answered", async () => {
    const c = config("t1");
    const tried: string[] = [];
    const moved: string[] = [];
    const got = await withFailover(
      c,
      async (s) => {
        tried.push(s);
        if (s === "http://a") throw new AgentHttpError("network", "refused");
        if (s === "http://b") throw new AgentHttpError("server", "HTTP 503", 503);
        return s;
      },
      (from) => moved.push(from),
    );
    expect(got).toBe("http://c");
    expect(tried).toEqual(["http://a", "http://b", "http://c"]);
    expect(moved).toEqual(["http://a", "http://b"]);
    expect(serversInTurn(c)).toEqual(["http://c", "http://a", "http://b"]);
  });

  it("does not move on a refusal (4xx, 401): another server would say the same", async () => {
    const tried: string[] = [];
    await expect(
      withFailover(config("t2"), async (s) => {
        tried.push(s);
        throw new AgentHttpError("unauthorized", "revoked", 401);
      }),
    ).rejects.toMatchObject({ kind: "unauthorized" });
    expect(tried).toEqual(["http://a"]);
  });

  it("throws the last error when every server is down", async () => {
    await expect(withFailover(config("t3"), async (s) => Promise.reject(new AgentHttpError("timeout", `no answer from ${s}`)))).rejects.toThrow("no answer from http://c");
  });
});
