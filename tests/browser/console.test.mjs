// The console as people see it: every page at 1280 px and at 375 px (no sideways scroll, the
// navigation reachable), axe-core on each (no serious or critical violation), and the
// dashboard checklist ticking as the admin does the steps.
import { test } from "node:test";
import assert from "node:assert/strict";
import { useStack, readyDemoAdmin, checkA11y, scrollsSideways } from "./harness.mjs";

const stack = useStack();

const PAGES = [
  ["/app", "Dashboard"],
  ["/app/configuration/users", "Users"],
  ["/app/configuration/sso", "Single sign-on"],
  ["/app/configuration/api", "API management"],
  ["/app/configuration/signin", "Sign-in"],
  ["/app/configuration/audit", "Audit log"],
  ["/app/account", "My account"],
];

test("every console page works at 1280 and 375 px, passes axe, and the checklist ticks", async () => {
  const context = await stack.browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  await readyDemoAdmin(stack.dev, page, { a11y: true });

  // The checklist: named (setup just done), the rest to do; inviting a user ticks "users".
  await page.goto(`${stack.dev.baseUrl}/app`);
  await page.getByRole("heading", { name: "Getting started" }).waitFor();
  const step = (id) => page.locator(`#checklist li[data-step="${id}"]`);
  assert.equal(await step("organisation").getAttribute("class"), "done");
  assert.equal(await step("users").getAttribute("class"), "todo");
  assert.equal(await step("sso").getAttribute("class"), "todo");
  await page.locator('[data-menu="users"]').click();
  await page.getByLabel("Email", { exact: true }).fill("dora@demo.test");
  await page.getByRole("button", { name: "Add user" }).click();
  await page.getByText("dora@demo.test was invited.").waitFor();
  await page.locator('tr[data-email="dora@demo.test"]').getByText(/invited/).first().waitFor();
  await page.goto(`${stack.dev.baseUrl}/app/configuration/sso`);
  await page.getByLabel(/Porter: password and a second factor/).check();
  await page.getByRole("button", { name: "Save" }).click();
  await page.getByText("Saved: people sign in with their password.").waitFor();
  await page.goto(`${stack.dev.baseUrl}/app`);
  await step("users").and(page.locator(".done")).waitFor();
  assert.equal(await step("sso").getAttribute("class"), "done", "porter chosen: SSO skipped");
  await page.getByText("3 of 5 done").waitFor();

  for (const [path, heading] of PAGES) {
    await page.goto(`${stack.dev.baseUrl}${path}`);
    await page.getByRole("heading", { name: heading, exact: true }).waitFor();
    const current = page.locator('#sidenav [aria-current="page"]');
    if (path !== "/app/account") assert.equal(await current.count(), 1, `${path} is marked in the navigation`);
    assert.equal(await scrollsSideways(page), false, `${path} at 1280 px`);
    await checkA11y(page, `${path} at 1280 px`);
  }
  // Back and reload keep the page.
  await page.goBack();
  await page.getByRole("heading", { name: "Audit log" }).waitFor();
  await page.reload();
  await page.getByRole("heading", { name: "Audit log" }).waitFor();

  await page.setViewportSize({ width: 375, height: 740 });
  for (const [path, heading] of PAGES) {
    await page.goto(`${stack.dev.baseUrl}${path}`);
    await page.getByRole("heading", { name: heading, exact: true }).waitFor();
    assert.equal(await scrollsSideways(page), false, `${path} at 375 px`);
    assert.equal(await page.locator("#sidenav").isVisible(), false, "the navigation is folded");
    await checkA11y(page, `${path} at 375 px`);
  }
  await page.getByRole("button", { name: "Menu" }).click();
  await page.locator('[data-menu="audit"]').click();
  await page.getByRole("heading", { name: "Audit log" }).waitFor();
  await context.close();
});

test("the sign-in pages pass axe in each step", async () => {
  const context = await stack.browser.newContext();
  const page = await context.newPage();
  await page.goto(`${stack.dev.baseUrl}/login`);
  await checkA11y(page, "sign-in: email");
  await page.locator("#email").fill("someone@demo.test");
  await page.getByRole("button", { name: "Continue" }).click();
  await page.getByLabel("Password", { exact: true }).waitFor();
  await checkA11y(page, "sign-in: password");
  await page.getByRole("button", { name: "Show password" }).click();
  assert.equal(await page.getByLabel("Password", { exact: true }).getAttribute("type"), "text");
  await page.getByLabel("Password", { exact: true }).fill("not the password at all");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByText("The email or password is not correct.").waitFor();
  await checkA11y(page, "sign-in: wrong password");
  await page.goto(`${stack.dev.baseUrl}/activate?token=${"ab".repeat(32)}`);
  await page.waitForLoadState("networkidle");
  await checkA11y(page, "activation page");
  await page.goto(`${stack.dev.baseUrl}/reset?token=${"ab".repeat(32)}`);
  await checkA11y(page, "reset page");
  await page.goto(`${stack.dev.baseUrl}/assets/no/such/page`);
  await page.getByRole("heading").first().waitFor();
  await checkA11y(page, "not found");
  await context.close();
});
