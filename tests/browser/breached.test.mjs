// No breached passwords, on all three pages that set one: activation, reset and My account.
// make dev's stand-in range service calls "correct horse battery staple" breached; the
// pages say so in the service's words and the person chooses another.
import { test } from "node:test";
import { useStack, activationLinkFrom, activate, signInWithPassword, enrolTotp, finishSetup, PASSWORD } from "./harness.mjs";

const stack = useStack();
const BREACHED = "correct horse battery staple";
const SAID = "This password has appeared in a data breach; choose another.";

test("a breached password is refused on the activation, reset and account pages", async () => {
  const page = await stack.browser.newPage();
  const { link } = activationLinkFrom(await stack.dev.outbox(), "admin@demo.test");
  await page.goto(link);
  await page.getByLabel("New password").fill(BREACHED);
  await page.getByLabel("Re-enter the password").fill(BREACHED);
  await page.getByRole("button", { name: "Activate my account" }).click();
  await page.getByText(SAID).waitFor();
  await activate(page, link);

  await signInWithPassword(stack.dev, page, "admin@demo.test");
  await enrolTotp(page);
  await finishSetup(page, "Demo Company");
  await page.waitForURL((u) => u.pathname === "/app/configuration/users");
  await page.goto(`${stack.dev.baseUrl}/app/account`);
  await page.getByLabel("Current password").fill(PASSWORD);
  await page.getByLabel("New password", { exact: true }).fill(BREACHED);
  await page.getByLabel("New password, again").fill(BREACHED);
  await page.getByRole("button", { name: "Change password" }).click();
  await page.getByText(SAID).waitFor();

  const other = await stack.browser.newPage();
  await other.goto(`${stack.dev.baseUrl}/login`);
  await other.locator("#forgot-link").click();
  await other.locator("#forgot-email").fill("admin@demo.test");
  await other.getByRole("button", { name: "Email me a reset link" }).click();
  await other.getByText("If this address belongs to an account").waitFor();
  let reset;
  for (let i = 0; i < 50 && !reset; i++) {
    const mail = (await stack.dev.outbox()).find((m) => m.to.includes("admin@demo.test") && m.body.includes("/reset?token="));
    reset = mail && mail.body.match(/href="([^"]*\/reset\?token=[0-9a-f]{64})"/)?.[1];
    if (!reset) await new Promise((r) => setTimeout(r, 200));
  }
  await other.goto(reset.replaceAll("&amp;", "&"));
  await other.getByLabel("New password").fill(BREACHED);
  await other.getByLabel("Re-enter the password").fill(BREACHED);
  await other.getByRole("button", { name: "Set new password" }).click();
  await other.getByText(SAID).waitFor();
  await page.close();
  await other.close();
});
