// jit-ctl allowlist apply, allowlist list.
import { describeAppRule } from "../../../core/app-rule";
import { parseAllowlistFile } from "../../../core/allowlist";
import { formatIssue } from "../../../core/parse-result";
import { readJsonFile } from "./policy";
import { InputError, parseFlags, signedIn, table, UsageError, type CtlCommand } from "./shared";

export const allowlistApplyCommand: CtlCommand = {
  name: "allowlist apply",
  usage: "allowlist apply -f FILE|-         make the allowlist exactly the file's entries (idempotent by name)",
  async run(args) {
    const { values } = parseFlags(args, { file: { type: "string", short: "f" } });
    if (!values.file) throw new UsageError("allowlist apply needs -f FILE (or -f - for standard input)");
    const json = readJsonFile(String(values.file));
    const parsed = parseAllowlistFile(json);
    if (parsed.issues) throw new InputError(parsed.issues.map(formatIssue).join("\n"));
    const r = await signedIn(values.server as string | undefined).allowlist.applyFile.mutate(json);
    const n = r.added + r.changed + r.removed;
    console.log(n === 0 ? `Allowlist unchanged (${r.unchanged} entries).` : `Allowlist applied: ${r.added} added, ${r.changed} changed, ${r.removed} removed, ${r.unchanged} unchanged.`);
  },
};

export const allowlistListCommand: CtlCommand = {
  name: "allowlist list",
  usage: "allowlist list [--json]           the allowlist: what All Allowed Application(s) means",
  async run(args) {
    const { values } = parseFlags(args, { json: { type: "boolean" } });
    const { entries } = await signedIn(values.server as string | undefined).allowlist.list.query();
    if (values.json) return void console.log(JSON.stringify({ entries: entries.map((e) => ({ name: e.name, description: e.description, rule: e.rule })) }, null, 2));
    if (entries.length === 0) return void console.log("The allowlist is empty. Fill it with jit-ctl allowlist apply -f FILE.");
    console.log(table([["NAME", "RULE", "DESCRIPTION"], ...entries.map((e) => [e.name, describeAppRule(e.rule), e.description])]));
  },
};
