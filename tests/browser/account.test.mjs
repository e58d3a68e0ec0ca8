// My account and the emailed PIN in a real browser: the admin turns PIN sign-in on, signs in
// elsewhere with a PIN from the outbox (and the authenticator app), adds a second security
// key on the account page through Chromium's virtual authenticator, and signs the first
// browser out from there.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { useStack, activationLinkFrom, activate, signInWithPassword, enrolTotp, finishSetup, checkA11y } from "./harness.mjs";

const stack = useStack();

function pinFrom(mails, to) {
  const mail = [...mails].reverse().find((m) => m.to.includes(to) && m.subject.includes("sign-in code"));
  if (!mail) throw new Error(`no sign-in code to ${to}`);
  return mail.body.match(/monospace">(\d{4}) (\d{4})</).slice(1).join("");
}

test("a PIN from the outbox signs in; the account page adds a key and signs another session out", async () => {
  const first = await stack.browser.newContext();
  const office = await first.newPage();
  const { link } = activationLinkFrom(await stack.dev.outbox(), "admin@demo.test");
  await activate(office, link);
  await signInWithPassword(stack.dev, office, "admin@demo.test");
  const secret = await enrolTotp(office);
  await finishSetup(office, "Demo Company");
  await office.waitForURL((u) => u.pathname === "/app/configuration/users");

  await office.goto(`${stack.dev.baseUrl}/app/configuration/signin`);
  await office.getByLabel(/Let people sign in with a code emailed to them/).check();
  await office.getByRole("button", { name: "Save" }).click();
  await office.getByText("Sign-in with an emailed code is on.").waitFor();

  // Another browser: the code instead of the password, then the app.
  const second = await stack.browser.newContext();
  const home = await second.newPage();
  const cdp = await second.newCDPSession(home);
  await cdp.send("WebAuthn.enable");
  await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: { protocol: "ctap2", transport: "usb", hasResidentKey: true, hasUserVerification: true, isUserVerified: true },
  });
  await home.goto(`${stack.dev.baseUrl}/login`);
  await home.locator("#email").fill("admin@demo.test");
  await home.getByRole("button", { name: "Continue" }).click();
  await home.getByRole("button", { name: "Email me a sign-in code instead" }).click();
  await home.getByRole("heading", { name: "Enter the code we emailed" }).waitFor();
  await checkA11y(home, "sign-in: emailed code");
  const pin = pinFrom(await stack.dev.outbox(), "admin@demo.test");
  await home.getByLabel("Sign-in code (8 digits)").fill(pin);
  await home.getByRole("button", { name: "Sign in" }).click();
  await home.getByRole("heading", { name: "Second step" }).waitFor();
  await checkA11y(home, "sign-in: second step");
  // The step after the one enrolment used, so the code is new.
  const code = execFileSync("oathtool", ["--totp", "-b", "-N", "now + 30 seconds", secret]).toString().trim();
  await home.getByLabel("Code from your authenticator app").fill(code);
  await home.getByRole("button", { name: "Verify" }).click();
  await home.waitForURL((u) => u.pathname.startsWith("/app"));

  await home.locator("#user-button").click();
  await home.getByRole("link", { name: "My account" }).click();
  await home.getByRole("heading", { name: "My account" }).waitFor();
  await home.getByText("Authenticator app: on").waitFor();
  await checkA11y(home, "my account");

  // The office session is listed; signing it out from here ends it there.
  const others = home.getByRole("button", { name: /^Sign out the session from/ });
  assert.equal(await others.count(), 1, "one other session");
  await others.click();
  await home.waitForFunction(() => document.querySelectorAll("#session-rows tr").length === 1);
  await office.goto(`${stack.dev.baseUrl}/app`);
  await office.waitForURL((u) => u.pathname === "/login");

  // A second factor more: a named security key (the PIN sign-in's MFA step is a fresh proof).
  await home.getByLabel("Name of the new key").fill("Backup key");
  await home.getByRole("button", { name: "Add a security key" }).click();
  await home.getByRole("cell", { name: "Backup key", exact: true }).waitFor();
  assert.equal(await home.locator("#new-codes li").count(), 10, "new recovery codes are shown once");
  await checkA11y(home, "my account with a key and new codes");
  await first.close();
  await second.close();
});
