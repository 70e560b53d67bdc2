// `npm run bench [NAME…]`: runs every bench/<name>/run.ts (or the ones named), one after another, each in its own process.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";

const here = resolve(import.meta.dirname);
const root = resolve(here, "..");
const all = readdirSync(here, { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(here, d.name, "run.ts")))
  .map((d) => d.name)
  .sort();
const wanted = process.argv.slice(2);
const unknown = wanted.filter((w) => !all.includes(w));
if (unknown.length) {
  console.error(`bench: no such benchmark: ${unknown.join(", ")} (there are: ${all.join(", ") || "none"})`);
  process.exit(2);
}
let failed = 0;
for (const name of wanted.length ? wanted : all) {
  console.log(`\n=== bench/${name}`);
  const r = spawnSync(process.execPath, [join(root, "bin", "tsx-run.mjs"), join(here, name, "run.ts")], { cwd: root, stdio: "inherit" });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
