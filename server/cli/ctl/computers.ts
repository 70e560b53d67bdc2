// jit-ctl enroll-token create, computers list.
import { parseFlags, signedIn, table, type CtlCommand } from "./shared";

export const enrollTokenCreateCommand: CtlCommand = {
  name: "enroll-token create",
  usage: "enroll-token create [--json]      make a one-time enrollment token (valid 24 h) and the command to enroll",
  async run(args) {
    const { values } = parseFlags(args, { json: { type: "boolean" } });
    const t = await signedIn(values.server as string | undefined).computers.createEnrollmentToken.mutate();
    if (values.json) console.log(JSON.stringify({ token: t.token, expiresAt: t.expiresAt, command: t.command }));
    else console.log(`Enrollment token (works once, until ${t.expiresAt}):\n  ${t.token}\n\nOn the computer, run:\n  ${t.command}`);
  },
};

export const computersListCommand: CtlCommand = {
  name: "computers list",
  usage: "computers list [--json]           the enrolled computers",
  async run(args) {
    const { values } = parseFlags(args, { json: { type: "boolean" } });
    const { computers } = await signedIn(values.server as string | undefined).computers.list.query();
    if (values.json) return void console.log(JSON.stringify(computers, null, 2));
    if (computers.length === 0) return void console.log("No computers enrolled yet. Make a token with jit-ctl enroll-token create.");
    console.log(
      table([
        ["NAME", "OS", "AGENT", "LAST SEEN", "BUNDLE"],
        ...computers.map((c) => [c.name, c.os, c.agentVersion, c.lastSeenAt ?? "never", `${c.bundleVersion ?? "-"}/${c.latestBundleVersion ?? "-"}`]),
      ]),
    );
  },
};
