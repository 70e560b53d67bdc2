// jit-ctl policy apply, policy list.
import { describeAppRule } from "../../../core/app-rule";
import { formatIssue } from "../../../core/parse-result";
import { parsePolicyFile } from "../../../core/policy";
import { InputError, parseFlags, readInput, signedIn, table, UsageError, type CtlCommand } from "./shared";

/** Reads a JSON file (or standard input for "-"), saying clearly when it is not JSON. */
export function readJsonFile(file: string): unknown {
  const text = readInput(file);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new InputError(`${file}: not valid JSON (${(e as Error).message})`);
  }
}

export const policyApplyCommand: CtlCommand = {
  name: "policy apply",
  usage: "policy apply -f FILE|-            create or update a policy from a JSON policy file (idempotent by name)",
  async run(args) {
    const { values } = parseFlags(args, { file: { type: "string", short: "f" } });
    if (!values.file) throw new UsageError("policy apply needs -f FILE (or -f - for standard input)");
    const json = readJsonFile(String(values.file));
    // Checked here first with the same parser as the server, so nothing is sent when the file is wrong.
    const parsed = parsePolicyFile(json);
    if (parsed.issues) throw new InputError(parsed.issues.map(formatIssue).join("\n"));
    const r = await signedIn(values.server as string | undefined).policies.upsert.mutate(json);
    const what = r.created ? "created" : r.changed ? `updated to revision ${r.policy.revision}` : "unchanged";
    console.log(`Policy "${r.policy.name}" ${what}${r.deployed ? ", deployed" : ""} (${r.policy.effectiveStatus}).`);
  },
};

export const policyListCommand: CtlCommand = {
  name: "policy list",
  usage: "policy list [--json]              the policies with their status",
  async run(args) {
    const { values } = parseFlags(args, { json: { type: "boolean" } });
    const { policies } = await signedIn(values.server as string | undefined).policies.list.query();
    if (values.json) return void console.log(JSON.stringify(policies, null, 2));
    if (policies.length === 0) return void console.log("No policies yet. Create one with jit-ctl policy apply -f FILE.");
    console.log(
      table([
        ["NAME", "STATUS", "USERS", "COMPUTERS", "DURATION", "APPLICATIONS"],
        ...policies.map((p) => [
          p.name,
          p.effectiveStatus,
          p.users === "all" ? "All users" : p.users.join(","),
          p.computers.join(","),
          p.duration.type === "fixed" ? `Fixed ${p.duration.length}` : `Window ${p.duration.start} – ${p.duration.end}`,
          p.applications === "allAllowed" ? "All Allowed Application(s)" : p.applications.map(describeAppRule).join("; "),
        ]),
      ]),
    );
  },
};
