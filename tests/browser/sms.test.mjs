// Codes by text message in a real browser: the admin allows them on Configuration → Sign-in,
// confirms a phone number on My account with the code moto's SNS recorded, then signs in
// elsewhere with a texted code read from the same place.
import { test } from "node:test";
import assert from "node:assert/strict";
import { useStack, readyDemoAdmin, checkA11y, PASSWORD } from "./harness.mjs";

const stack = useStack();
const NUMBER = "+447911123456";

/** The code in the newest text message to `to`, once it is there. */
async function codeTextedTo(to, after) {
  for (let i = 0; i < 50; i++) {
    const text = (await stack.dev.texts()).find((t) => t.to === to && !after.includes(t.id));
    if (text) return text.body.match(/code is (\d{6})/)[1];
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no text message to ${to}`);
}

const seen = async () => (await stack.dev.texts()).map((t) => t.id);

test("a phone number is confirmed and a sign-in completes with the texted code", async () => {
  const office = await stack.browser.newContext();
  const page = await office.newPage();
  await readyDemoAdmin(stack.dev, page);

  await page.goto(`${stack.dev.baseUrl}/app/configuration/signin`);
  await page.getByText("NIST SP 800-63B treats codes sent by text message as a restricted authenticator").waitFor();
  await page.getByLabel("Allow text messages as a second factor").check();
  await page.getByRole("button", { name: "Save" }).click();
  await page.getByText("Text messages are allowed as a second factor.").waitFor();
  await checkA11y(page, "sign-in options");

  await page.goto(`${stack.dev.baseUrl}/app/account`);
  await page.getByRole("heading", { name: "Codes by text message" }).waitFor();
  const before = await seen();
  await page.getByLabel("Mobile number, with the country code").fill("+44 7911 123456");
  await page.getByRole("button", { name: "Text me a code" }).first().click();
  const code = await codeTextedTo(NUMBER, before);
  await page.getByLabel("Code from the text message").fill(code);
  await page.getByRole("button", { name: "Confirm the number" }).click();
  await page.getByText("Codes are texted to +44••••••••56.").waitFor();
  await checkA11y(page, "my account with a phone number");

  const home = await stack.browser.newContext();
  const other = await home.newPage();
  await other.goto(`${stack.dev.baseUrl}/login`);
  await other.locator("#email").fill("admin@demo.test");
  await other.getByRole("button", { name: "Continue" }).click();
  await other.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await other.getByRole("button", { name: "Sign in" }).click();
  await other.getByRole("heading", { name: "Second step" }).waitFor();
  const earlier = await seen();
  await other.getByRole("button", { name: "Text me a code" }).click();
  await other.getByText("We texted a code to +44••••••••56.").waitFor();
  const signInCode = await codeTextedTo(NUMBER, earlier);
  assert.notEqual(signInCode, code, "a new code for the sign-in");
  await other.getByLabel("Code from the text message").fill(signInCode);
  await other.getByRole("button", { name: "Verify" }).click();
  await other.waitForURL((u) => u.pathname.startsWith("/app"));

  const outbox = await (await fetch(`${stack.dev.baseUrl}/_dev/outbox`)).text();
  assert.ok(outbox.includes("Text messages") && outbox.includes(NUMBER), "the outbox shows the text messages");
  await office.close();
  await home.close();
});
