import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { isServiceWorkerRequest, serveServiceWorker } from "./service-worker-file";

function fakeResponse() {
  const out = { status: 0, headers: {} as Record<string, unknown>, body: undefined as unknown };
  const res = {
    writeHead(status: number, headers: Record<string, unknown>) {
      out.status = status;
      out.headers = headers;
      return res;
    },
    end(body?: unknown) {
      out.body = body;
    },
  };
  return { res: res as unknown as ServerResponse, out };
}
const get = { method: "GET" } as IncomingMessage;

describe("the service worker file", () => {
  const dirs: string[] = [];
  const project = () => {
    const d = mkdtempSync(join(tmpdir(), "jit-sw-"));
    dirs.push(d);
    return d;
  };
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it("matches /sw.js with or without a query, nothing else", () => {
    expect(isServiceWorkerRequest("/sw.js")).toBe(true);
    expect(isServiceWorkerRequest("/sw.js?v=1")).toBe(true);
    expect(isServiceWorkerRequest("/sw.jsx")).toBe(false);
    expect(isServiceWorkerRequest("/api/sw.js")).toBe(false);
  });

  it("serves the worker of its own build folder, always revalidated", async () => {
    const root = project();
    mkdirSync(join(root, ".next-a"));
    mkdirSync(join(root, ".next-b"));
    writeFileSync(join(root, ".next-a", "sw.js"), "// build a");
    writeFileSync(join(root, ".next-b", "sw.js"), "// build b");
    const { res, out } = fakeResponse();
    expect(await serveServiceWorker(root, false, get, res, ".next-b")).toBe(true);
    expect(out.status).toBe(200);
    expect(String(out.body)).toBe("// build b");
    expect(out.headers["Content-Type"]).toMatch(/^text\/javascript/);
    expect(out.headers["Cache-Control"]).toBe("no-cache");
  });

  it("falls through when the build has no worker", async () => {
    const { res, out } = fakeResponse();
    expect(await serveServiceWorker(project(), false, get, res, ".next")).toBe(false);
    expect(out.status).toBe(0);
  });

  it("is a 404 under next dev, so a production worker left in the browser goes away", async () => {
    const root = project();
    mkdirSync(join(root, ".next"));
    writeFileSync(join(root, ".next", "sw.js"), "// old build");
    const { res, out } = fakeResponse();
    expect(await serveServiceWorker(root, true, get, res, ".next")).toBe(true);
    expect(out.status).toBe(404);
  });
});
