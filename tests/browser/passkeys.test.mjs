// Passkeys in a real browser: the admin adds one on My account through Chromium's virtual
// authenticator (resident keys, user verification), then another browser holding the same
// passkey signs in from the first page with nothing typed. A browser whose authenticator
// cannot verify its user gets no session.
import { test } from "node:test";
import assert from "node:assert/strict";
import { useStack, readyDemoAdmin, checkA11y } from "./harness.mjs";

const stack = useStack();

/**
 * A page in a fresh browser whose virtual authenticator can (or cannot) verify its user.
 * Chromium's virtual authenticator answers an autofill (conditional) request at once, as if
 * the person had picked the passkey; `autofill: false` plays a browser without that, so the
 * button is the way.
 */
async function browserWithAuthenticator(verifies, { autofill = true } = {}) {
  const context = await stack.browser.newContext();
  if (!autofill) {
    await context.addInitScript(() => {
      if (window.PublicKeyCredential) PublicKeyCredential.isConditionalMediationAvailable = async () => false;
    });
  }
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send("WebAuthn.enable");
  const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: {
      protocol: "ctap2",
      transport: "internal",
      hasResidentKey: true,
      hasUserVerification: verifies,
      isUserVerified: verifies,
      automaticPresenceSimulation: true,
    },
  });
  return { context, page, cdp, authenticatorId };
}

test("a passkey added in My account signs in from the first page with nothing typed", async () => {
  const office = await browserWithAuthenticator(true);
  const page = office.page;
  await readyDemoAdmin(stack.dev, page);

  await page.goto(`${stack.dev.baseUrl}/app/account`);
  await page.getByRole("heading", { name: "My account" }).waitFor();
  await page.getByLabel("Name of the new key").fill("Work laptop");
  await page.getByRole("button", { name: "Add a passkey" }).click();
  await page.getByRole("cell", { name: "Work laptop (passkey)", exact: true }).waitFor();
  await checkA11y(page, "my account with a passkey");
  const { credentials } = await office.cdp.send("WebAuthn.getCredentials", { authenticatorId: office.authenticatorId });
  assert.equal(credentials.length, 1);
  assert.equal(credentials[0].isResidentCredential, true, "a discoverable credential");

  // Another browser that holds the same passkey (as a synced passkey would be).
  const home = await browserWithAuthenticator(true, { autofill: false });
  await home.cdp.send("WebAuthn.addCredential", { authenticatorId: home.authenticatorId, credential: credentials[0] });
  await home.page.goto(`${stack.dev.baseUrl}/login`);
  assert.equal(await home.page.locator("#email").getAttribute("autocomplete"), "username webauthn");
  await checkA11y(home.page, "sign-in with a passkey offered");
  await home.page.getByRole("button", { name: "Sign in with a passkey" }).click();
  await home.page.waitForURL((u) => u.pathname.startsWith("/app"));
  assert.equal(await home.page.locator("#email").count(), 0, "nothing was typed");
  const me = await home.page.evaluate(async () => (await fetch("/api/me")).status);
  assert.equal(me, 200, "fully signed in");

  // The email field's autofill offers the passkey: picking it signs in. (Copied as it is
  // now: its signature counter moved on, and an older copy would look like a clone.)
  const synced = (await home.cdp.send("WebAuthn.getCredentials", { authenticatorId: home.authenticatorId })).credentials[0];
  const phone = await browserWithAuthenticator(true);
  await phone.cdp.send("WebAuthn.addCredential", { authenticatorId: phone.authenticatorId, credential: synced });
  await phone.page.goto(`${stack.dev.baseUrl}/login`);
  await phone.page.waitForURL((u) => u.pathname.startsWith("/app"));

  // A browser whose authenticator holds the passkey but cannot verify its user: refused.
  // (Copied from the phone after its use, so that only the missing verification is wrong.)
  const latest = (await phone.cdp.send("WebAuthn.getCredentials", { authenticatorId: phone.authenticatorId })).credentials[0];
  const careless = await browserWithAuthenticator(false, { autofill: false });
  await careless.cdp.send("WebAuthn.addCredential", { authenticatorId: careless.authenticatorId, credential: latest });
  await careless.page.goto(`${stack.dev.baseUrl}/login`);
  await careless.page.getByRole("button", { name: "Sign in with a passkey" }).click();
  await careless.page.locator("#passkey-error").waitFor();
  assert.equal(new URL(careless.page.url()).pathname, "/login");
  const none = await careless.page.evaluate(async () => (await fetch("/api/me")).status);
  assert.equal(none, 401, "no session without user verification");

  for (const b of [office, home, phone, careless]) await b.context.close();
});
