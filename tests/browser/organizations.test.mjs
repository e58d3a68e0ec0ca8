// Managed organizations in a real browser: an MSP's admin signs in, adds two organizations,
// opens one, invites its admin there, switches back through the top bar, and reads both audit
// logs; an organization is removed only after its name is typed.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  useStack, activationLinkFrom, porterctl, activate, signInWithPassword, enrolTotp, finishSetup, checkA11y,
} from "./harness.mjs";

const stack = useStack();

test("an MSP admin adds organizations, works in one, switches back and reads both logs", async () => {
  const ann = "ann@msp.test";
  await porterctl(stack.dev, ["tenant", "create", "--name", "Acme IT", "--admin-email", ann, "--msp", "--max-organizations", "5"]);
  const page = await (await stack.browser.newContext()).newPage();
  await activate(page, activationLinkFrom(await stack.dev.outbox(), ann).link);
  await signInWithPassword(stack.dev, page, ann);
  await enrolTotp(page);
  await finishSetup(page, "Acme IT");
  await page.waitForURL((u) => u.pathname === "/app/configuration/users");

  // Configuration → Managed organizations: add two.
  await page.locator('[data-menu="organizations"]').click();
  await page.getByRole("heading", { name: "Managed organizations" }).waitFor();
  await page.getByText("You manage no organizations yet").waitFor();
  for (const name of ["Contoso", "Fabrikam"]) {
    await page.getByLabel("Organization name").fill(name);
    await page.getByRole("button", { name: "Add organization" }).click();
    await page.getByText(`${name} was added. Open it to invite its admin.`).waitFor();
  }
  await page.getByText("2 of 5 organizations").waitFor();
  await page.locator('tr[data-organization="Contoso"]').getByText("0 of 5").waitFor();
  await checkA11y(page, "managed organizations");

  // Removal asks for the name: a wrong one leaves the button off.
  await page.getByRole("button", { name: "Remove Fabrikam" }).click();
  const confirm = page.getByLabel("Type the organization's name to confirm");
  await confirm.fill("Fabrikan");
  assert.equal(await page.locator("#org-remove-go").isDisabled(), true);
  await confirm.fill("Fabrikam");
  await page.locator("#org-remove-go").click();
  await page.getByText("Fabrikam was removed, with its users and settings.").waitFor();
  await page.getByText("1 of 5 organizations").waitFor();
  await page.getByLabel("Organization name").fill("Fabrikam");
  await page.getByRole("button", { name: "Add organization" }).click();
  await page.getByText("2 of 5 organizations").waitFor();

  // Open Contoso: the console now works there, and says so.
  await page.getByRole("button", { name: "Open Contoso" }).click();
  await page.waitForURL((u) => u.pathname === "/app/configuration/users");
  await page.getByText("Working in Contoso (managed by Acme IT)").waitFor();
  await page.getByText("0 of 5 users").waitFor();
  await page.getByLabel("Email", { exact: true }).fill("bob@contoso.test");
  await page.getByLabel("Role", { exact: true }).selectOption("admin");
  await page.getByRole("button", { name: "Add user" }).click();
  await page.getByText("bob@contoso.test was invited.").waitFor();
  assert.equal(await page.locator('tr[data-email="ann@msp.test"]').count(), 0, "MSP staff are not Contoso's users");
  assert.ok(activationLinkFrom(await stack.dev.outbox(), "bob@contoso.test").link, "Bob's invitation was sent");

  // Contoso's log: what Ann did there, with the MSP's name.
  await page.locator('[data-menu="audit"]').click();
  await page.getByRole("heading", { name: "Audit log" }).waitFor();
  const invite = page.locator("#audit-rows tr").filter({ hasText: "Invited bob@contoso.test" });
  await invite.first().waitFor();
  assert.equal(await invite.first().locator("td").nth(3).textContent(), "ann@msp.test (Acme IT)");
  await checkA11y(page, "audit while acting");

  // The switcher in the top bar: the current one marked, by keyboard.
  await page.locator("#org-button").click();
  const current = page.locator('#org-popup [aria-current="true"]');
  assert.equal(await current.textContent(), "Contoso (current)");
  assert.equal(await page.locator("#org-popup button").count(), 3, "Acme IT, Contoso, Fabrikam");
  await page.keyboard.press("Escape");
  assert.equal(await page.locator("#org-popup").isHidden(), true);
  await page.locator("#org-button").click();
  await page.getByRole("button", { name: "Acme IT", exact: true }).click();
  await page.waitForURL((u) => u.pathname === "/app/dashboard");
  // The console has loaded once the switcher names where the session works.
  await page.waitForFunction(() => document.getElementById("org-current").textContent === "Acme IT");
  assert.equal(await page.locator("#acting-banner").isHidden(), true, "no banner at home");

  // The MSP's log: the organizations added and removed, and the switch into Contoso.
  await page.goto(`${stack.dev.baseUrl}/app/configuration/audit`);
  await page.getByRole("heading", { name: "Audit log" }).waitFor();
  for (const sentence of ["Added a managed organization Contoso", "Removed a managed organization Fabrikam", "Switched to Contoso"]) {
    await page.getByRole("cell", { name: sentence, exact: true }).first().waitFor();
  }
  assert.equal(await page.locator("#audit-rows").getByText("bob@contoso.test").count(), 0, "Contoso's events stay in Contoso's log");

  // My organization: the MSP's own settings.
  await page.locator('[data-menu="my-organization"]').click();
  await page.getByRole("heading", { name: "My organization" }).waitFor();
  await page.getByRole("link", { name: "Acme IT: Single sign-on" }).waitFor();
});
