#!/usr/bin/env node
// Builds the console (next build, then its service worker: scripts/build-sw.mjs) when there is no build yet, the
// service worker is missing, or the sources are newer than the build; --force always builds.
import { existsSync, readdirSync, statSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { spawnSync } from "node:child_process";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const marker = join(root, process.env.NEXT_DIST_DIR || ".next", "BUILD_ID");
const serviceWorker = join(root, process.env.NEXT_DIST_DIR || ".next", "sw.js");
// Build outputs that live among the sources: not a reason to build again.
const outputs = new Set([join(root, "public", "sw.js")]);

function newest(path) {
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st || outputs.has(path)) return 0;
  if (!st.isDirectory()) return st.mtimeMs;
  let max = st.mtimeMs;
  for (const name of readdirSync(path)) max = Math.max(max, newest(join(path, name)));
  return max;
}

const sources = ["app", "core", "public", "next.config.ts", "postcss.config.mjs", "package.json"].map((p) => join(root, p));
const force = process.argv.includes("--force");
const built = existsSync(marker) && existsSync(serviceWorker) ? statSync(marker).mtimeMs : 0;
if (!force && built > 0 && Math.max(...sources.map(newest)) <= built) process.exit(0);

console.log(built ? "The console's sources changed: building it (next build)…" : "First start: building the console (next build, about half a minute)…");
const r = spawnSync(process.execPath, [join(root, "node_modules", "next", "dist", "bin", "next"), "build"], {
  cwd: root,
  stdio: "inherit",
  env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1", NODE_ENV: "production" },
});
if (r.status !== 0) process.exit(r.status ?? 1);
const sw = spawnSync(process.execPath, [join(root, "scripts", "build-sw.mjs")], { cwd: root, stdio: "inherit", env: process.env });
process.exit(sw.status ?? 1);
