// Serves the console's service worker at /sw.js from the build it belongs to: <distDir>/sw.js, written by
// scripts/build-sw.mjs after `next build`. Each build folder (NEXT_DIST_DIR) has its own worker, so parallel
// builds in one working tree never clobber each other. Under `next dev` /sw.js is a 404: a browser that
// registered a production worker on this origin drops it at its next update check instead of serving a stale shell.
import { readFile } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { join } from "node:path";

export const SERVICE_WORKER_PATH = "/sw.js";

export function isServiceWorkerRequest(url: string): boolean {
  return url === SERVICE_WORKER_PATH || url.startsWith(`${SERVICE_WORKER_PATH}?`);
}

/** Answers /sw.js; returns false when there is no worker file (the caller falls through). */
export async function serveServiceWorker(
  projectRoot: string,
  dev: boolean,
  req: IncomingMessage,
  res: ServerResponse,
  distDir: string = process.env.NEXT_DIST_DIR || ".next",
): Promise<boolean> {
  if (dev || (req.method !== "GET" && req.method !== "HEAD")) {
    res.writeHead(404, { "Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store" });
    res.end("No service worker under next dev.\n");
    return true;
  }
  let body: Buffer;
  try {
    // Read on every request (it is small, and browsers ask rarely): a rebuilt worker is served at once.
    body = await readFile(join(projectRoot, distDir, "sw.js"));
  } catch {
    return false;
  }
  res.writeHead(200, {
    "Content-Type": "text/javascript; charset=utf-8",
    "Content-Length": body.length,
    // Always revalidated: an update must be seen at the next check.
    "Cache-Control": "no-cache",
    "Service-Worker-Allowed": "/",
    "X-Content-Type-Options": "nosniff",
  });
  res.end(req.method === "HEAD" ? undefined : body);
  return true;
}
