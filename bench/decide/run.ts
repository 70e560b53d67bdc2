// bench/decide: decisions per second and p99 latency of core's decide() on a bundle of 10,000 rules of mixed types,
// for a cache-warm probe (the app identity is known; the bundle's index is built once, on the first decision).
import { createHash } from "node:crypto";
import { cpus } from "node:os";
import type { AppRule } from "../../core/app-rule";
import type { Bundle, BundlePolicy } from "../../core/bundle";
import { decide, type AppIdentity, type DecideOptions } from "../../core/decide";

const RULES = 10_000;
const RULES_PER_POLICY = 25;
const T0 = Date.parse("2026-03-01T10:00:00Z");
const iso = (ms: number) => new Date(ms).toISOString();
const hex = (s: string) => createHash("sha256").update(s).digest("hex");

function ruleFor(i: number): AppRule {
  switch (i % 6) {
    case 0:
      return { type: "fileHash", sha256: hex(`file-${i}`) };
    case 1:
      return { type: "vendor", vendor: `Vendor ${i}` };
    case 2:
      return { type: "product", product: `pkg-${i}`, ...(i % 12 === 2 ? { versions: ">=1.2 <3" } : {}) };
    case 3:
      return { type: "verifiedExecutable", path: i % 4 === 3 ? `/usr/bin/tool-${i}` : `tool-${i}` };
    case 4:
      return { type: "clsid", clsid: `{${hex(`c${i}`).slice(0, 8)}-1234-1234-1234-${hex(`c${i}`).slice(8, 20)}}` };
    default:
      return { type: "folderPath", path: `/opt/vendor-${i}/bin` };
  }
}

const policies: BundlePolicy[] = [];
for (let p = 0; p * RULES_PER_POLICY < RULES; p++) {
  const applications = Array.from({ length: RULES_PER_POLICY }, (_, k) => ruleFor(p * RULES_PER_POLICY + k));
  policies.push({
    id: `p${p}`,
    name: `Policy ${p}`,
    revision: 1,
    users: p % 3 === 0 ? "all" : [`user${p}`, `CORP\\user${p + 1}`, "alice"],
    applications,
    duration: { type: "fixed", length: "8h" },
    startsAt: iso(T0 - 3_600_000),
    endsAt: iso(T0 + (p % 2 ? 8 : 4) * 3_600_000),
  });
}
const bundle: Bundle = {
  format: 1,
  computer: { id: "c1", name: "build-01" },
  version: 1,
  issuedAt: iso(T0),
  validUntil: iso(T0 + 7 * 86_400_000),
  policies,
  grants: [],
  allowlist: [],
};

// Probed identities (cache-warm: known already), half of them matching some rule, half matching none.
const apps: AppIdentity[] = [
  { path: "/usr/bin/tool-3", sha256: hex("nothing"), packageName: "pkg-2", packageVersion: "2.0-1", vendor: "Vendor 1", verified: true },
  { path: "/opt/vendor-5/bin/x", sha256: hex("file-6000"), packageName: null, packageVersion: null, vendor: null, verified: false },
  { path: "/usr/local/bin/other", sha256: hex("other"), packageName: "other", packageVersion: "1.0", vendor: "Nobody", verified: false },
  { path: "/usr/bin/dpkg", sha256: hex("dpkg"), packageName: "dpkg", packageVersion: "1.21.22", vendor: "Debian", verified: true },
];
const users = ["alice", "user4", "mallory", "CORP\\user9"];
const at = new Date(T0);

function run(label: string, options: DecideOptions, iterations: number) {
  for (let i = 0; i < 20_000; i++) decide(bundle, { user: users[i % users.length]!, app: apps[i % apps.length]!, at }, options);
  const samples = new Float64Array(iterations);
  let allowed = 0;
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) {
    const t = process.hrtime.bigint();
    const d = decide(bundle, { user: users[i % users.length]!, app: apps[(i >> 2) % apps.length]!, at }, options);
    samples[i] = Number(process.hrtime.bigint() - t) / 1000;
    if (d.allowed) allowed++;
  }
  const totalMs = Number(process.hrtime.bigint() - start) / 1e6;
  samples.sort();
  const q = (p: number) => samples[Math.min(samples.length - 1, Math.floor(p * samples.length))]!;
  const perSecond = Math.round(iterations / (totalMs / 1000));
  console.log(
    `${label.padEnd(34)} ${String(perSecond).padStart(9)} decisions/s   p50 ${q(0.5).toFixed(1)} µs   p99 ${q(0.99).toFixed(1)} µs   max ${q(1).toFixed(0)} µs   (${((allowed / iterations) * 100).toFixed(0)}% allowed)`,
  );
  return { perSecond, p99: q(0.99) };
}

const ruleCount = policies.reduce((n, p) => n + (p.applications === "allAllowed" ? 0 : p.applications.length), 0);
console.log(`decide() on ${ruleCount} rules in ${policies.length} policies; Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}`);
const t0 = process.hrtime.bigint();
decide({ ...bundle }, { user: "alice", app: apps[0]!, at }, { trace: "none" });
console.log(`index build (first decision on a new bundle): ${(Number(process.hrtime.bigint() - t0) / 1e6).toFixed(1)} ms`);
const hot = run('trace "none" (the decision only)', { trace: "none" }, 200_000);
run('trace "policies" (one line/policy)', { trace: "policies" }, 20_000);
const ok = hot.p99 < 50;
console.log(`target p99 < 50 µs: ${ok ? "met" : "NOT met"}`);
process.exitCode = ok ? 0 : 1;
