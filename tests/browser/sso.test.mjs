// Single sign-on in a real browser against a real OpenID provider (npm oidc-provider, the one
// `make dev` runs) and the dev server's DNS server: an admin adds the organisation's domain,
// publishes its TXT record (porterctl dev dns set), verifies it, configures the provider,
// proves it with a test sign-in, signs out and signs in through the provider; a person the
// admin never added is told to ask the administrator.
import { test } from "node:test";
import assert from "node:assert/strict";
import { useStack, readyDemoAdmin, signOut, porterctl, passProvider } from "./harness.mjs";

const stack = useStack();

test("an admin turns on single sign-on after a test sign-in, then signs in through the provider", async () => {
  const page = await stack.browser.newPage();
  const provider = stack.dev.env.PORTER_ENTRA_AUTHORITY;
  await readyDemoAdmin(stack.dev, page);

  await page.goto(`${stack.dev.baseUrl}/app/configuration/sso`);
  await page.getByRole("heading", { name: "Single sign-on" }).waitFor();

  // A domain routes nobody until it is proved in DNS.
  await page.getByLabel("Domain", { exact: true }).fill("demo.test");
  await page.getByRole("button", { name: "Add domain" }).click();
  await page.getByText("Added demo.test. Publish its TXT record, then verify it.").waitFor();
  await page.getByRole("button", { name: "Verify demo.test" }).click();
  await page.getByText("There is no TXT record at _porter-challenge.demo.test yet.", { exact: false }).waitFor();
  const txtName = await page.locator(".txt-name").first().textContent();
  const txtValue = await page.locator(".txt-value").first().textContent();
  assert.equal(txtName, "_porter-challenge.demo.test");
  assert.match(txtValue, /^porter-verification=[A-Za-z0-9_-]{43}$/);
  await porterctl(stack.dev, ["dev", "dns", "set", txtName, txtValue]);
  await page.getByRole("button", { name: "Verify demo.test" }).click();
  await page.getByText("demo.test is verified.").waitFor();
  await page.getByText("Verified by DNS").waitFor();

  await page.getByLabel("Another OpenID Connect provider").check();
  await page.getByLabel("Client (application) id").fill("porter-dev");
  await page.getByLabel("Client secret").fill("porter-dev-client-secret");
  await page.getByLabel("Discovery URL").fill(`${provider}/.well-known/openid-configuration`);
  await page.getByLabel(/Verified domains/).fill("demo.test");
  assert.equal(await page.getByLabel(/second factor after the identity provider/).inputValue(), "always");
  // The admin's explicit choice, with its warning: the provider alone gives a full session.
  await page.getByLabel(/second factor after the identity provider/).selectOption("never");
  await page.getByText("Without Porter's second factor", { exact: false }).waitFor();
  await page.getByRole("button", { name: "Save" }).click();
  await page.getByText("Saved, not yet tested").waitFor();
  const redirectUri = await page.locator("#sso-redirect-uri").textContent();
  assert.match(redirectUri, new RegExp(`^${stack.dev.baseUrl}/api/login/callback/[A-Za-z0-9_-]{43}$`));
  assert.equal(await page.getByLabel("Client secret").inputValue(), "", "the secret is never shown back");

  await page.getByRole("button", { name: "Test sign-in" }).click();
  await passProvider(page, provider, "admin@demo.test");
  await page.getByText("The test sign-in worked: single sign-on is on.").waitFor();
  await page.getByText("People sign in with OpenID Connect.").waitFor();

  await signOut(page);
  await page.getByText("You are signed out.").waitFor();

  // Through the provider: the address's domain decides, and no password is asked.
  await page.locator("#email").fill("admin@demo.test");
  await page.getByRole("button", { name: "Continue" }).click();
  await page.waitForURL((u) => u.href.startsWith(provider) || u.pathname === "/app");
  if (page.url().startsWith(provider)) await passProvider(page, provider, "admin@demo.test");
  await page.getByText("Signed in as admin@demo.test").waitFor();
  const cookies = await page.context().cookies(stack.dev.baseUrl);
  const session = cookies.find((c) => c.name === "porter_session");
  assert.ok(session && session.httpOnly && session.sameSite === "Lax", JSON.stringify(cookies));

  // Someone of the domain whom the admin never added.
  const stranger = await stack.browser.newPage();
  await stranger.goto(`${stack.dev.baseUrl}/login`);
  await stranger.locator("#email").fill("zed@demo.test");
  await stranger.getByRole("button", { name: "Continue" }).click();
  await passProvider(stranger, provider, "zed@demo.test");
  await stranger.getByText("Your account is not registered; ask your administrator.").waitFor();
  const me = await stranger.evaluate(async () => (await fetch("/api/me")).status);
  assert.equal(me, 401, "no session was created");
});
