// jit-ctl login / logout.
import { rmSync } from "node:fs";
import { readSecret } from "../prompt";
import { apiClient, credentialsPath, loadCredentials, parseFlags, saveCredentials, serverUrl, signedIn, UsageError, type CtlCommand } from "./shared";

export const loginCommand: CtlCommand = {
  name: "login",
  usage: "login --server URL --email E      sign in (password from JIT_PASSWORD or a prompt); keeps the session\n                                    token in ~/.config/jit-access/credentials.json (mode 0600)",
  async run(args) {
    const { values } = parseFlags(args, { email: { type: "string" } });
    if (!values.email) throw new UsageError("login needs --email E");
    const server = serverUrl(values.server as string | undefined);
    const password = process.env.JIT_PASSWORD ?? (await readSecret(`Password for ${values.email}: `));
    const s = await apiClient(server, null).auth.createCliSession.mutate({ email: String(values.email), password });
    saveCredentials({ server, token: s.token, email: s.user.email, expiresAt: s.expiresAt });
    console.log(`Signed in to ${server} as ${s.user.email} (${s.user.role}).`);
  },
};

export const logoutCommand: CtlCommand = {
  name: "logout",
  usage: "logout                            end the session on the server and forget it here",
  async run(args) {
    const { values } = parseFlags(args, {});
    if (loadCredentials() || process.env.JIT_TOKEN) await signedIn(values.server as string | undefined).auth.logout.mutate().catch(() => undefined);
    rmSync(credentialsPath(), { force: true });
    console.log("Signed out.");
  },
};
