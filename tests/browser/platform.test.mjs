// API management and Check License in a real browser, against the platform stand-in that
// `make dev` runs with the demo key it writes: fill the form, check the license, see
// "Menu updated" and the entitled solutions in the menu; a solution page shows what the
// product's route behind Porter's authorizer is told, and an unlicensed one says so.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { useStack, readyDemoAdmin } from "./harness.mjs";

const stack = useStack();

test("an admin connects the platform, checks the license and the menu shows the entitled solutions", async () => {
  const page = await stack.browser.newPage();
  const keys = stack.dev.env.PORTER_DEV_PLATFORM_KEYS;
  await readyDemoAdmin(stack.dev, page);

  await page.goto(`${stack.dev.baseUrl}/app/configuration/api`);
  await page.getByRole("heading", { name: "API management" }).waitFor();
  const check = page.getByRole("button", { name: "Check license with the platform" });
  assert.ok(await check.isDisabled(), "nothing to check before the connection is saved");

  await page.getByLabel("Platform hostname").fill(stack.dev.env.PORTER_DEV_PLATFORM);
  await page.getByLabel("OAuth token issuer (client id)").fill("demo-tenant");
  await page.getByLabel("Key id (KID)").fill("demo-key-1");
  await page.getByLabel("Private key (PEM)").fill(readFileSync(join(keys, "demo-key.pem"), "utf8"));
  await page.getByLabel("Private key password").fill("not the password");
  await page.getByRole("button", { name: "Save" }).click();
  await page.getByText("The password does not open this private key.").waitFor();

  await page.getByLabel("Private key password").fill(readFileSync(join(keys, "demo-key-password.txt"), "utf8"));
  await page.getByLabel("Certificate (PEM, optional)").fill(readFileSync(join(keys, "demo-certificate.pem"), "utf8"));
  await page.getByRole("button", { name: "Save" }).click();
  await page.getByText("Saved.").waitFor();
  await page.getByText(/Connected to .* with an RSA 2048 bits key \(encrypted\); certificate CN=demo-tenant/).waitFor();
  assert.equal(await page.getByLabel("Private key (PEM)").inputValue(), "", "the key is never shown back");
  // Saved: the key and certificate fields wait behind "Update certificate information".
  assert.equal(await page.getByLabel("Private key (PEM)").isVisible(), false, "the key field is folded away");
  await page.getByLabel("Update certificate information").check();
  assert.ok(await page.getByLabel("Private key (PEM)").isVisible(), "asked for, the key field shows");
  await page.getByLabel("Update certificate information").uncheck();
  assert.ok(!(await page.locator('[data-menu="solution:endpoint"]').count()));

  await check.click();
  await page.getByText("Menu updated").waitFor();
  await page.locator('[data-menu="solution:endpoint"]').waitFor();
  await page.getByRole("link", { name: "Patching" }).click();
  await page.getByRole("heading", { name: "Patching" }).waitFor();
  // The product's own route, behind Porter's authorizer, is told who this is.
  await page.getByText("Your organisation is entitled to this part of the product.").waitFor();
  await page.locator("#solution-context dd").first().waitFor();
  const context = await page.locator("#solution-context").innerText();
  assert.match(context, /Signed in as\s+admin@demo\.test \(admin\)/);
  assert.match(context, /Proved by\s+the session/);

  // A solution the license does not include: the authorizer refuses, the page says why.
  await page.goto(`${stack.dev.baseUrl}/app/solutions/backup-not-licensed`);
  await page.getByText("This part of the product is not part of your organisation's license.").waitFor();
  await page.getByRole("heading", { name: "Not part of your license" }).waitFor();
});
