// User management in a real browser: the admin adds a core user; the core user activates
// from the emailed link, enrols TOTP, signs in and sees no Configuration in the menu; the
// admin reads what happened in the audit view.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  useStack, activationLinkFrom, porterctl, activate, signInWithPassword, enrolTotp, finishSetup,
} from "./harness.mjs";

const stack = useStack();

test("an admin adds a core user, who activates, enrols and sees no Configuration", async () => {
  const adminEmail = "ada@users.test";
  await porterctl(stack.dev, ["tenant", "create", "--name", "Users Co", "--admin-email", adminEmail, "--max-users", "2"]);
  const admin = await stack.browser.newPage();
  await activate(admin, activationLinkFrom(await stack.dev.outbox(), adminEmail).link);
  await signInWithPassword(stack.dev, admin, adminEmail);
  await enrolTotp(admin);
  await finishSetup(admin, "Users Company");

  await admin.getByRole("heading", { name: "Users", exact: true }).waitFor();
  await admin.getByText("1 of 2 users").waitFor();
  await admin.getByLabel("Email", { exact: true }).fill("cory@users.test");
  await admin.getByLabel("Role", { exact: true }).selectOption("core");
  await admin.getByRole("button", { name: "Add user" }).click();
  await admin.getByText("cory@users.test was invited.").waitFor();
  await admin.locator('tr[data-email="cory@users.test"]').getByText("invited").waitFor();
  await admin.getByText("2 of 2 users").waitFor();

  // The cap, as the admin sees it.
  await admin.getByLabel("Email", { exact: true }).fill("third@users.test");
  await admin.getByRole("button", { name: "Add user" }).click();
  await admin.getByText("Your organisation has reached its user limit; contact your representative to add more").waitFor();
  await admin.screenshot({ path: "/tmp/porter-users.png" });

  const core = await (await stack.browser.newContext()).newPage();
  await activate(core, activationLinkFrom(await stack.dev.outbox(), "cory@users.test").link);
  await signInWithPassword(stack.dev, core, "cory@users.test");
  await enrolTotp(core);
  await core.getByText("Signed in as cory@users.test (Solutions Core)").waitFor();
  assert.equal(await core.locator('[data-menu="configuration"]').count(), 0, "no Configuration for core users");
  assert.equal(await core.locator('[data-menu="dashboard"]').count(), 1);
  const users = await core.evaluate(async () => (await fetch("/api/users")).status);
  assert.equal(users, 403);

  await admin.reload();
  await admin.locator('tr[data-email="cory@users.test"]').getByText("active").waitFor();

  // The audit view: newest first, the invitation and the activation among them.
  await admin.locator('[data-menu="audit"]').click();
  await admin.getByRole("heading", { name: "Audit log" }).waitFor();
  // People by address, actions in words.
  await admin.getByRole("cell", { name: "Invited cory@users.test as Solutions Core", exact: true }).first().waitFor();
  await admin.getByRole("cell", { name: "Activated the account", exact: true }).first().waitFor();
  const newest = admin.locator("#audit-rows tr").first().locator("td");
  assert.equal(await newest.nth(1).textContent(), "Signed in with an authenticator app", "the core user's sign-in is the newest event");
  assert.equal(await newest.nth(3).textContent(), "cory@users.test");
  assert.equal(await admin.locator("#audit-rows").getByText(/^u_[a-z0-9]{16}$/).count(), 0, "no ids where addresses belong");

  // Filters: by person, by action; and the CSV of what is filtered.
  await admin.getByLabel("Person (email)").fill("cory@users.test");
  await admin.getByLabel("Action").selectOption("user.invite");
  await admin.getByRole("button", { name: "Filter" }).click();
  await admin.waitForFunction(() => document.querySelectorAll("#audit-rows tr").length === 1);
  const csvHref = await admin.getByRole("link", { name: "Export CSV" }).getAttribute("href");
  assert.match(csvHref, /format=csv/);
  const csv = await admin.evaluate(async (href) => (await fetch(href)).text(), csvHref);
  const lines = csv.trim().split("\r\n");
  assert.equal(lines[0], "time,action,outcome,actor,actor_email,msp,target,target_email,source_ip");
  assert.equal(lines.length, 2, csv);
  assert.match(lines[1], /"user.invite","success","u_[a-z0-9]+","ada@users.test","","u_[a-z0-9]+","cory@users.test"/);
});
