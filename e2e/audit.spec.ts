// The audit trail end to end: a policy's life (create, deploy, an elevation reported by a real jit-agent, edit,
// disable) shows on its Audit tab in order with its actors; the Events report filters, and exports a CSV that a
// spreadsheet reader (Python's csv module, as a stand-in) opens with one row per event.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect, test } from "@playwright/test";
import { createTRPCClient, httpLink } from "@trpc/client";
import type { AppRouter } from "../server/routers";
import { eventually, run, spawnDaemon, startServer, tempDir, type ServerProcess } from "./support";

const OWNER = { email: "owner@example.com", password: "a long owner passphrase" };

test("a policy's life on its Audit tab; the Events report filters and exports CSV", async ({ page }) => {
  const server: ServerProcess = await startServer({ ADMIN_EMAIL: OWNER.email, ADMIN_PASSWORD: OWNER.password });
  const state = tempDir("agent");
  const files = tempDir("files");
  const ctlHome = tempDir("ctl");
  let daemon: ReturnType<typeof spawnDaemon> | null = null;
  try {
    const body = "#!/bin/sh\necho building\n";
    const tool = join(files.path, "build-tool");
    writeFileSync(tool, body, { mode: 0o755 });
    const sha256 = createHash("sha256").update(body).digest("hex");
    const ctlEnv = { XDG_CONFIG_HOME: ctlHome.path, JIT_PASSWORD: OWNER.password };
    expect((await run("jit-ctl", ["login", "--server", server.url, "--email", OWNER.email], ctlEnv)).code).toBe(0);
    const token = JSON.parse(readFileSync(join(ctlHome.path, "jit-access", "credentials.json"), "utf8")).token as string;
    const api = createTRPCClient<AppRouter>({ links: [httpLink({ url: `${server.url}/api/trpc`, headers: { authorization: `Bearer ${token}` } })] });

    // A computer with a real agent.
    const enrollToken = JSON.parse((await run("jit-ctl", ["enroll-token", "create", "--json"], ctlEnv)).stdout) as { token: string };
    const enrolled = await run("jit-agent", ["enroll", "--server", server.url, "--token", enrollToken.token, "--name", "build-01", "--state-dir", state.path]);
    expect(enrolled.code).toBe(0);
    daemon = spawnDaemon("jit-agent", ["run", "--state-dir", state.path]);

    // The policy's life: create (draft), deploy, an elevation on the computer, edit, disable.
    const policyFile = (users: string[], deploy: boolean) => {
      const f = join(files.path, "policy.json");
      writeFileSync(f, JSON.stringify({ name: "Build tools", computers: ["build-01"], users, duration: { type: "fixed", length: "2h" }, applications: [{ type: "fileHash", sha256 }], deploy }));
      return f;
    };
    expect((await run("jit-ctl", ["policy", "apply", "-f", policyFile(["alice"], false)], ctlEnv)).code).toBe(0);
    const policy = (await api.policies.list.query()).policies.find((p) => p.name === "Build tools")!;
    await api.policies.deploy.mutate({ id: policy.id });
    await eventually(async () => (await run("jit-agent", ["check", "--user", "alice", "--path", tool, "--state-dir", state.path])).code === 0, 15_000);
    // The daemon sends the queued report; the server records it with the computer and the end user as actor.
    await eventually(async () => (await api.events.list.query({ filter: { policyId: policy.id, types: ["agent.elevation_allowed"] } })).events.length > 0, 15_000);
    await api.policies.upsert.mutate({ name: "Build tools", computers: ["build-01"], users: ["alice", "bob"], duration: { type: "fixed", length: "2h" }, applications: [{ type: "fileHash", sha256 }], deploy: false });
    await api.policies.disable.mutate({ id: policy.id });
    // A denial on the same computer, for the report's filter.
    expect((await run("jit-agent", ["check", "--user", "mallory", "--path", tool, "--state-dir", state.path])).code).toBe(3);
    await eventually(async () => (await api.events.list.query({ filter: { endUser: "mallory" } })).events.length > 0, 15_000);

    // The Audit tab of the policy: newest first, with who did it.
    await page.goto(`${server.url}/login`);
    await page.getByLabel("Email").fill(OWNER.email);
    await page.getByLabel("Password").fill(OWNER.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page.getByRole("link", { name: "Events", exact: true })).toBeVisible();
    await page.goto(`${server.url}/policies/${policy.id}`);
    await page.getByRole("tab", { name: "Audit" }).click();
    const items = page.getByRole("list", { name: "Events, newest first" }).getByRole("listitem");
    await expect(items.first()).toContainText("Policy disabled");
    const texts = await items.allInnerTexts();
    const lines = texts.map((t) => t.replace(/\s+/g, " "));
    // Oldest first, the life's steps appear in order, each with its actor (other events, such as a re-deploy
    // by the edit, may sit between them).
    const chronological = [...lines].reverse();
    const steps: [string, string][] = [
      ["Policy created", OWNER.email],
      ["Policy deployed", OWNER.email],
      ["Elevation allowed on the computer", "build-01 (alice)"],
      ["Policy edited", OWNER.email],
      ["Policy disabled", OWNER.email],
    ];
    let at = -1;
    for (const [label, actor] of steps) {
      const next = chronological.findIndex((l, i) => i > at && l.includes(label));
      expect(next, `${label} after position ${at} in:\n${chronological.join("\n")}`).toBeGreaterThan(at);
      expect(chronological[next]).toContain(`by ${actor}`);
      at = next;
    }

    // The Events report: filter by type and computer, then export the filtered set.
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Events", exact: true }).click();
    await expect(page.getByRole("heading", { name: "Events", exact: true })).toBeVisible();
    await page.getByLabel("Event type", { exact: true }).selectOption({ label: "Elevation denied on the computer" });
    await page.getByLabel("Computer", { exact: true }).selectOption({ label: "build-01" });
    await page.getByLabel("End user", { exact: true }).fill("mallory");
    await page.getByRole("button", { name: "Apply filters" }).click();
    const rows = page.getByRole("table").getByRole("row");
    await expect(rows).toHaveCount(2); // header + mallory's denial
    await expect(rows.nth(1)).toContainText("mallory");
    await expect(rows.nth(1)).toContainText("Elevation denied on the computer");

    const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "Export CSV" }).click()]);
    expect(download.suggestedFilename()).toMatch(/^jit-events-.*\.csv$/);
    const csvPath = join(files.path, "events.csv");
    await download.saveAs(csvPath);
    const parsed = spawnSync("python3", ["-c", "import csv,json,sys; r=list(csv.reader(open(sys.argv[1], newline='', encoding='utf-8-sig'))); print(json.dumps(r))", csvPath], { encoding: "utf8" });
    expect(parsed.status).toBe(0);
    const table = JSON.parse(parsed.stdout) as string[][];
    expect(table[0]).toEqual(["seq", "time", "type", "event", "actor_type", "actor", "end_user", "computer_id", "policy_id", "request_id", "justification", "detail", "hash"]);
    expect(table).toHaveLength(2);
    expect(table[1]).toHaveLength(13);
    expect(table[1]![2]).toBe("agent.elevation_denied");
    expect(table[1]![5]).toBe("build-01");
    expect(table[1]![6]).toBe("mallory");

    // The computer's own Audit (Computers → its name).
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Computers", exact: true }).click();
    await page.getByRole("link", { name: "build-01", exact: true }).click();
    const computerEvents = page.getByRole("list", { name: "Events, newest first" });
    await expect(computerEvents).toContainText("Elevation denied on the computer");
    await expect(computerEvents).toContainText("Computer enrolled");

    // Settings → Audit retention, and Verify now.
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Settings", exact: true }).click();
    await page.getByRole("radio", { name: "Keep events for a number of days" }).check();
    await page.getByLabel("Days to keep").fill("400");
    await page.getByRole("button", { name: "Save retention" }).click();
    await expect(page.getByText("Saved.")).toBeVisible();
    expect(await api.events.retention.query()).toEqual({ days: 400 });
    await page.getByRole("button", { name: "Verify now" }).click();
    await expect(page.getByText(/events intact/)).toBeVisible();

    // On a phone the report fits the screen: no sideways scrolling, the rows stack as cards.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${server.url}/events`);
    await expect(page.getByRole("heading", { name: "Events", exact: true })).toBeVisible();
    await expect(page.getByRole("table").getByRole("row").nth(1)).toBeVisible();
    await expect(page.getByLabel("Event type", { exact: true })).toBeHidden();
    await page.getByRole("button", { name: "Filters" }).click();
    await expect(page.getByLabel("Event type", { exact: true })).toBeVisible();
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);

    // The whole trail verifies.
    const verify = spawnSync(process.execPath, [join(import.meta.dirname, "..", "bin", "jit-server.mjs"), "audit", "verify"], { env: { ...process.env, DATA_DIR: server.dataDir }, encoding: "utf8" });
    expect(verify.stdout).toMatch(/audit trail intact/);
    expect(verify.status).toBe(0);
  } finally {
    await daemon?.stop();
    await server.stop();
    state.remove();
    files.remove();
    ctlHome.remove();
  }
});
