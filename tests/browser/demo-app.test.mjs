// The vendor's own app signs in with Porter (its OpenID provider) in a real browser: make
// dev's demo app (npm openid-client) sends the person to Porter, which names the app, hands
// them to their organisation's identity provider (the local one), asks Porter's own second
// factor as that organisation's policy says, and sends them back with a code; the app shows
// the ID token's claims and signs out of Porter again.
import { test } from "node:test";
import assert from "node:assert/strict";
import { useStack, passProvider, enrolTotp } from "./harness.mjs";

const stack = useStack();

test("a person signs in to the demo app through their organisation's identity provider and out again", async () => {
  const { demoApp, baseUrl, env } = stack.dev;
  assert.ok(demoApp, "make dev printed the demo app's address");
  const page = await stack.browser.newPage();
  await page.goto(demoApp.url);
  await page.getByRole("link", { name: "Sign in with Porter" }).click();

  await page.waitForURL((u) => u.href.startsWith(`${baseUrl}/login`));
  await page.getByText("Sign in to continue to Demo app").waitFor();
  await page.locator("#email").fill("admin@sso.test");
  await page.getByRole("button", { name: "Continue" }).click();
  await passProvider(page, env.PORTER_ENTRA_AUTHORITY, "admin@sso.test");

  // The organisation asks for Porter's second factor unless its provider proved one.
  await page.waitForURL((u) => u.href.startsWith(demoApp.url) || u.pathname === "/login");
  if (page.url().startsWith(baseUrl)) {
    // Back from the provider, the page still says where the sign-in leads.
    await page.getByText("Sign in to continue to Demo app").waitFor();
    await enrolTotp(page);
  }

  await page.waitForURL((u) => u.href.startsWith(demoApp.url));
  await page.getByText("Signed in as admin@sso.test").waitFor();
  const claim = async (name) => (await page.locator(`#claim-${name}`).first().textContent()).trim();
  assert.equal(await claim("iss"), baseUrl);
  assert.equal(await claim("aud"), demoApp.clientId);
  assert.equal(await claim("email"), "admin@sso.test");
  assert.equal(await claim("email_verified"), "true");
  assert.equal(await claim("org_name"), "SSO Demo");
  assert.equal(await claim("role"), "admin");
  assert.match(await claim("tid"), /^t_[0-9a-z]{16}$/);
  assert.ok(JSON.parse(await claim("amr")).includes("fed"), "signed in through the provider");
  assert.match(await claim("sid"), /^[0-9a-f]{64}$/);

  // A refresh gives new tokens while the Porter session lives.
  await page.getByRole("link", { name: "Refresh the tokens" }).click();
  await page.getByText("Signed in as admin@sso.test").waitFor();

  // Signing out of the app signs out of Porter and comes straight back (no page between).
  await page.getByRole("link", { name: "Sign out" }).click();
  await page.waitForURL((u) => u.href.startsWith(demoApp.url));
  await page.getByRole("link", { name: "Sign in with Porter" }).waitFor();
  await page.goto(`${baseUrl}/app`);
  await page.waitForURL((u) => u.pathname === "/login");
  await page.close();
});

test("the sign-in page returns only to a path of its own site", async () => {
  const page = await stack.browser.newPage();
  await page.goto(`${stack.dev.baseUrl}/login?next=https://evil.test/`);
  await page.locator("#email").waitFor();
  const verdicts = await page.evaluate(() =>
    ["https://evil.test/", "//evil.test/x", "/\\evil.test", "/\t/evil.test", "javascript:alert(1)", "/oauth2/authorize?client_id=c_1"].map(
      (n) => porter.safeNext(n),
    ),
  );
  assert.deepEqual(verdicts, [null, null, null, null, null, "/oauth2/authorize?client_id=c_1"]);
  assert.equal(await page.evaluate(() => sessionStorage.getItem("porter.next")), null, "nothing kept for another site");
  assert.equal(await page.locator("#continue-to").isHidden(), true);
  await page.close();
});
