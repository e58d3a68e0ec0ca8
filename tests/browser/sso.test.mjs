// Single sign-on in a real browser against a real OpenID provider (npm oidc-provider, the one
// `make dev` runs): an admin configures it, proves it with a test sign-in, signs out and signs
// in through the provider; a person the admin never added is told to ask the administrator.
import { test } from "node:test";
import assert from "node:assert/strict";
import { useStack, readyDemoAdmin, signOut } from "./harness.mjs";

const stack = useStack();

/** Signs in at the local provider's development form as `email` and consents. */
async function passProvider(page, providerBase, email) {
  await page.waitForURL((u) => u.href.startsWith(providerBase));
  await page.locator('input[name="login"]').fill(email);
  await page.locator('input[name="password"]').fill("any password works here");
  await page.getByRole("button", { name: "Sign-in" }).click();
  const consent = page.getByRole("button", { name: "Continue" });
  await Promise.race([
    consent.waitFor().then(() => consent.click()),
    page.waitForURL((u) => !u.href.startsWith(providerBase)),
  ]);
  await page.waitForURL((u) => !u.href.startsWith(providerBase));
}

test("an admin turns on single sign-on after a test sign-in, then signs in through the provider", async () => {
  const page = await stack.browser.newPage();
  const provider = stack.dev.env.PORTER_ENTRA_AUTHORITY;
  await readyDemoAdmin(stack.dev, page);

  await page.goto(`${stack.dev.baseUrl}/app/configuration/sso`);
  await page.getByRole("heading", { name: "Single sign-on" }).waitFor();
  await page.getByLabel("Another OpenID Connect provider").check();
  await page.getByLabel("Client (application) id").fill("porter-dev");
  await page.getByLabel("Client secret").fill("porter-dev-client-secret");
  await page.getByLabel("Discovery URL").fill(`${provider}/.well-known/openid-configuration`);
  await page.getByLabel(/Email domains/).fill("demo.test");
  await page.getByRole("button", { name: "Save" }).click();
  await page.getByText("Saved, not yet tested").waitFor();
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
