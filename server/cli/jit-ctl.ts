// `jit-ctl`: the admin's command line, a tRPC client of the server. Each command lives in ctl/<noun>.ts.
import { TRPCClientError } from "@trpc/client";
import { formatIssue, type ParseIssue } from "../../core/parse-result";
import { allowlistApplyCommand, allowlistListCommand } from "./ctl/allowlist";
import { computersListCommand, enrollTokenCreateCommand } from "./ctl/computers";
import { eventsExportCommand, eventsListCommand } from "./ctl/events";
import { policyApplyCommand, policyListCommand } from "./ctl/policy";
import { requestsApproveCommand, requestsDeclineCommand, requestsListCommand, requestsRevokeCommand } from "./ctl/requests";
import { loginCommand, logoutCommand } from "./ctl/session";
import { InputError, UsageError, type CtlCommand } from "./ctl/shared";

const COMMANDS: CtlCommand[] = [loginCommand, logoutCommand, enrollTokenCreateCommand, policyApplyCommand, policyListCommand, computersListCommand, allowlistApplyCommand, allowlistListCommand, eventsListCommand, eventsExportCommand, requestsListCommand, requestsApproveCommand, requestsDeclineCommand, requestsRevokeCommand];

const USAGE = `usage: jit-ctl <command> [options]

commands:
${COMMANDS.map((c) => `  ${c.usage}`).join("\n")}

options for every command: --server URL (or JIT_SERVER); JIT_TOKEN overrides the saved session token.
exit codes: 0 done, 1 failed, 2 bad usage or bad input.`;

async function run(argv: string[]): Promise<void> {
  if (argv.length === 0 || ["help", "--help", "-h"].includes(argv[0]!)) {
    console.log(USAGE);
    return;
  }
  // The longest command name that the arguments start with ("policy apply" before "policy").
  const command = COMMANDS.filter((c) => {
    const words = c.name.split(" ");
    return words.every((w, i) => argv[i] === w);
  }).sort((a, b) => b.name.length - a.name.length)[0];
  if (!command) throw new UsageError(`unknown command "${argv.slice(0, 2).join(" ")}"\n\n${USAGE}`);
  await command.run(argv.slice(command.name.split(" ").length));
}

function exitFor(e: unknown): number {
  if (e instanceof TRPCClientError) {
    const data = e.data as { code?: string; issues?: ParseIssue[] } | undefined;
    if (!data) {
      console.error(`jit-ctl: cannot reach the server (${e.message})`);
      return 1;
    }
    if (data.issues?.length) {
      console.error(data.issues.map(formatIssue).join("\n"));
      return 2;
    }
    const hint = data.code === "UNAUTHORIZED" ? " (sign in again with jit-ctl login)" : "";
    console.error(`jit-ctl: ${e.message}${hint}`);
    return data.code === "BAD_REQUEST" ? 2 : 1;
  }
  if (e instanceof InputError) {
    console.error(e.message);
    return 2;
  }
  const parseError = e instanceof Error && "code" in e && String((e as { code: unknown }).code).startsWith("ERR_PARSE_ARGS");
  console.error(`jit-ctl: ${e instanceof Error ? e.message : String(e)}`);
  return e instanceof UsageError || parseError ? 2 : 1;
}

run(process.argv.slice(2)).then(
  () => process.exit(0),
  (e: unknown) => process.exit(exitFor(e)),
);
