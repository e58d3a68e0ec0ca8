// Sign-in with mandatory MFA in a real browser: a security key through Chromium's virtual
// authenticator (page on http://localhost, as WebAuthn requires), and an authenticator app
// whose codes come from oathtool.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { useStack, activationLinkFrom, porterctl, PASSWORD, activate, signInWithPassword, saveCodes, finishSetup, signOut } from "./harness.mjs";

const stack = useStack();

test("an admin enrols a security key, signs out and signs in with it", async () => {
  const page = await stack.browser.newPage();
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("WebAuthn.enable");
  await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: { protocol: "ctap2", transport: "usb", hasResidentKey: true, hasUserVerification: true, isUserVerified: true },
  });

  const { link } = activationLinkFrom(await stack.dev.outbox(), "admin@demo.test");
  await activate(page, link);
  await signInWithPassword(stack.dev, page, "admin@demo.test");
  await page.getByRole("heading", { name: "Protect your account" }).waitFor();
  await page.getByRole("button", { name: "Security key" }).click();
  await saveCodes(page);
  await finishSetup(page, "Demo Company");

  await page.getByText("Signed in as admin@demo.test (Solutions Admin)").waitFor();
  assert.ok(await page.locator('[data-menu="configuration"]').isVisible());
  await page.screenshot({ path: "/tmp/porter-dashboard.png" });

  await signOut(page);
  await page.getByText("You are signed out.").waitFor();
  const me = await page.evaluate(async () => (await fetch("/api/me")).status);
  assert.equal(me, 401, "the session ended on the server");

  await signInWithPassword(stack.dev, page, "admin@demo.test");
  await page.getByRole("heading", { name: "Second step" }).waitFor();
  await page.getByRole("button", { name: "Use my security key" }).click();
  await page.getByText("Signed in as admin@demo.test").waitFor();
});

test("a user enrols an authenticator app from the QR page and signs in with a code", async () => {
  const email = "tom@totp.test";
  await porterctl(stack.dev, ["tenant", "create", "--name", "Totp Co", "--admin-email", email]);
  const { link } = activationLinkFrom(await stack.dev.outbox(), email);
  const page = await stack.browser.newPage();
  await activate(page, link);
  await signInWithPassword(stack.dev, page, email);
  await page.getByRole("button", { name: /Authenticator app/ }).click();
  await page.getByAltText("QR code for your authenticator app").waitFor();
  const secret = (await page.locator("#totp-secret").textContent()).trim();
  assert.match(secret, /^[A-Z2-7]{32}$/);
  const code = execFileSync("oathtool", ["--totp", "-b", secret]).toString().trim();
  await page.getByLabel("Enter the 6-digit code the app shows").fill(code);
  await page.getByRole("button", { name: "Turn on" }).click();
  await saveCodes(page);
  await finishSetup(page, "Totp Company");
  await page.getByText(`Signed in as ${email}`).waitFor();
  await page.screenshot({ path: "/tmp/porter-totp-done.png" });

  await signOut(page);
  await page.getByText("You are signed out.").waitFor();
  await signInWithPassword(stack.dev, page, email);
  await page.getByRole("heading", { name: "Second step" }).waitFor();
  const wrong = await page.evaluate(async () => (await fetch("/api/me")).status);
  assert.equal(wrong, 403, "password alone reaches nothing");
  const next = execFileSync("oathtool", ["--totp", "-b", "-N", `@${Math.floor(Date.now() / 1000) + 30}`, secret]).toString().trim();
  await page.getByLabel("Code from your authenticator app").fill(next);
  await page.getByRole("button", { name: "Verify" }).click();
  await page.getByText(`Signed in as ${email}`).waitFor();
});

test("a wrong password is explained and forgot-password answers the same for anyone", async () => {
  const page = await stack.browser.newPage();
  await page.goto(`${stack.dev.baseUrl}/login`);
  await page.locator("#email").fill("nobody@nowhere.test");
  await page.getByRole("button", { name: "Continue" }).click();
  await page.getByLabel("Password", { exact: true }).fill("not the password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByText("The email or password is not correct.").waitFor();
  await page.getByText("If your account is not registered, ask your administrator to add you.").waitFor();
  await page.locator("#forgot-link-2").click();
  await page.getByRole("button", { name: "Email me a reset link" }).click();
  await page.getByText("If this address belongs to an account").waitFor();
});
