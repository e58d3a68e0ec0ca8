// Porter's OpenID provider against npm openid-client (a certified relying party), unmodified
// but for allowing http on this machine: discovery, code + PKCE, token, userinfo, refresh and
// logout against make dev's stack, and every refusal the provider owes: a wrong or extra
// redirect_uri, a replayed code (and what it issued stops working), a wrong PKCE verifier, a
// wrong client secret, an expired code, a public client without PKCE, prompt=none without a
// session, a refresh token after its reuse or after the session ended.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createRemoteJWKSet, jwtVerify } from "jose";
import * as oidc from "openid-client";
import { useStack, porterctl, readyDemoAdmin, ageCode, tableItem } from "./harness.mjs";

const stack = useStack();
const REDIRECT = "http://127.0.0.1:9/callback";
const AFTER_LOGOUT = "http://127.0.0.1:9/signed-out";
const insecure = { execute: [oidc.allowInsecureRequests] };
let portal; // a confidential client: { id, secret, config }
let spa; // a public client
let cookie; // the demo admin's Porter session, as the browser holds it

function created(out) {
  return {
    id: /client_id: (c_[0-9a-z]{16})/.exec(out)[1],
    secret: /client_secret: ([0-9a-f]{64})/.exec(out)?.[1],
  };
}

// Once, before the first test needs it (the stack starts in the harness's own hook).
let ready;
const setUp = () => (ready ??= prepare());

async function prepare() {
  const dev = stack.dev;
  portal = created(await porterctl(dev, ["client", "create", "--name", "Support portal", "--redirect-uri", REDIRECT, "--post-logout-redirect-uri", AFTER_LOGOUT]));
  portal.config = await oidc.discovery(new URL(dev.baseUrl), portal.id, undefined, oidc.ClientSecretBasic(portal.secret), insecure);
  spa = created(await porterctl(dev, ["client", "create", "--name", "Docs", "--redirect-uri", REDIRECT, "--public"]));
  assert.equal(spa.secret, undefined, "a public client has no secret");
  spa.config = await oidc.discovery(new URL(dev.baseUrl), spa.id, undefined, oidc.None(), insecure);
  const page = await stack.browser.newPage();
  await readyDemoAdmin(dev, page);
  const session = (await page.context().cookies(dev.baseUrl)).find((c) => c.name === "porter_session");
  cookie = `porter_session=${session.value}`;
  await page.close();
}

/** The browser's visit to the authorization endpoint: where Porter sends it (or its page). */
async function visit(url, withCookie = cookie) {
  const resp = await fetch(url, { redirect: "manual", headers: withCookie ? { cookie: withCookie } : {} });
  const location = resp.headers.get("location");
  return { status: resp.status, location: location && new URL(location, stack.dev.baseUrl), body: await resp.text() };
}

/** An authorization request of `client` with PKCE, state and nonce, and Porter's answer. */
async function authorize(client, extra = {}) {
  const verifier = oidc.randomPKCECodeVerifier();
  const checks = { pkceCodeVerifier: verifier, expectedState: oidc.randomState(), expectedNonce: oidc.randomNonce() };
  const url = oidc.buildAuthorizationUrl(client.config, {
    redirect_uri: REDIRECT,
    scope: "openid email profile offline_access",
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: "S256",
    state: checks.expectedState,
    nonce: checks.expectedNonce,
    ...extra,
  });
  return { url, checks, answer: await visit(url) };
}

const refusedWith = (error) => (e) => {
  assert.equal(e.error, error, `${e.name}: ${e.message}`);
  return true;
};

test("a confidential app signs in with code and PKCE, reads userinfo and refreshes", async () => {
  await setUp();
  const { checks, answer } = await authorize(portal);
  assert.equal(answer.status, 302);
  assert.equal(answer.location.origin + answer.location.pathname, REDIRECT);
  assert.equal(answer.location.searchParams.get("iss"), stack.dev.baseUrl, "RFC 9207 iss");
  const tokens = await oidc.authorizationCodeGrant(portal.config, answer.location, checks);
  const claims = tokens.claims();
  assert.equal(claims.iss, stack.dev.baseUrl);
  assert.equal(claims.aud, portal.id);
  assert.equal(claims.nonce, checks.expectedNonce);
  assert.equal(claims.email, "admin@demo.test");
  assert.equal(claims.email_verified, true);
  assert.equal(claims.role, "admin");
  assert.equal(claims.org_name, "Demo Company");
  assert.deepEqual(claims.amr, ["pwd", "otp"]);
  assert.match(claims.tid, /^t_[0-9a-z]{16}$/);
  assert.match(claims.sid, /^[0-9a-f]{64}$/);
  assert.ok(Math.abs(claims.auth_time - Date.now() / 1000) < 600);
  // The ID token verifies against the published keys (ES256).
  const jwks = createRemoteJWKSet(new URL(`${stack.dev.baseUrl}/.well-known/jwks.json`));
  const { protectedHeader } = await jwtVerify(tokens.id_token, jwks, { issuer: stack.dev.baseUrl, audience: portal.id });
  assert.equal(protectedHeader.alg, "ES256");
  assert.ok(tokens.refresh_token, "offline_access gives a refresh token");
  assert.equal(tokens.token_type.toLowerCase(), "bearer");

  const info = await oidc.fetchUserInfo(portal.config, tokens.access_token, claims.sub);
  assert.equal(info.email, "admin@demo.test");
  assert.equal(info.tid, claims.tid);

  // The code is kept only as a hash; the grant and the refresh token too.
  const code = answer.location.searchParams.get("code");
  assert.match(code, /^[0-9a-f]{64}$/);
  const hash = (await import("node:crypto")).createHash("sha256").update(code).digest("hex");
  const item = await tableItem(stack.dev, `OAUTHCODE#${hash}`, "CODE");
  assert.ok(item && item.used_at, "the code is stored under its hash, spent");
  assert.ok(!JSON.stringify(item).includes(code), "the code itself is stored nowhere");

  const refreshed = await oidc.refreshTokenGrant(portal.config, tokens.refresh_token);
  assert.notEqual(refreshed.refresh_token, tokens.refresh_token, "refresh tokens rotate");
  assert.equal(refreshed.claims().sub, claims.sub);
  // The rotated one used again: the whole family ends, the newest included.
  await assert.rejects(oidc.refreshTokenGrant(portal.config, tokens.refresh_token), refusedWith("invalid_grant"));
  await assert.rejects(oidc.refreshTokenGrant(portal.config, refreshed.refresh_token), refusedWith("invalid_grant"));
  await assert.rejects(oidc.fetchUserInfo(portal.config, refreshed.access_token, claims.sub));
});

test("a replayed code is refused and revokes what its first use issued", async () => {
  await setUp();
  const { checks, answer } = await authorize(portal);
  const first = await oidc.authorizationCodeGrant(portal.config, answer.location, checks);
  await assert.rejects(oidc.authorizationCodeGrant(portal.config, answer.location, checks), refusedWith("invalid_grant"));
  await assert.rejects(oidc.fetchUserInfo(portal.config, first.access_token, first.claims().sub), (e) => {
    assert.equal(e.response?.status ?? e.status, 401);
    return true;
  });
  await assert.rejects(oidc.refreshTokenGrant(portal.config, first.refresh_token), refusedWith("invalid_grant"));
});

test("a wrong PKCE verifier, a wrong secret and an expired code are refused", async () => {
  await setUp();
  let { checks, answer } = await authorize(portal);
  const wrongVerifier = { ...checks, pkceCodeVerifier: oidc.randomPKCECodeVerifier() };
  await assert.rejects(oidc.authorizationCodeGrant(portal.config, answer.location, wrongVerifier), refusedWith("invalid_grant"));

  ({ checks, answer } = await authorize(portal));
  const wrongSecret = await oidc.discovery(new URL(stack.dev.baseUrl), portal.id, undefined, oidc.ClientSecretBasic("0".repeat(64)), insecure);
  // HTTP Basic refused: 401 with the Basic challenge (RFC 6749 §5.2), which openid-client reports.
  const basic = await oidc.authorizationCodeGrant(wrongSecret, answer.location, checks).catch((e) => e);
  assert.equal(basic.response?.status, 401, basic.message);
  assert.equal(basic.cause[0].scheme, "basic");
  assert.equal((await basic.response.json()).error, "invalid_client");
  const asPost = await oidc.discovery(new URL(stack.dev.baseUrl), portal.id, undefined, oidc.ClientSecretPost("f".repeat(64)), insecure);
  await assert.rejects(oidc.authorizationCodeGrant(asPost, answer.location, checks), refusedWith("invalid_client"));
  // The right secret in the body (client_secret_post) works for the same code.
  const rightPost = await oidc.discovery(new URL(stack.dev.baseUrl), portal.id, undefined, oidc.ClientSecretPost(portal.secret), insecure);
  await oidc.authorizationCodeGrant(rightPost, answer.location, checks);

  ({ checks, answer } = await authorize(portal));
  await ageCode(stack.dev, answer.location.searchParams.get("code"), 1);
  await assert.rejects(oidc.authorizationCodeGrant(portal.config, answer.location, checks), refusedWith("invalid_grant"));
});

test("a wrong, extra or repeated redirect_uri gets a page and is never redirected to", async () => {
  await setUp();
  const base = oidc.buildAuthorizationUrl(portal.config, { redirect_uri: REDIRECT, scope: "openid", state: "s" });
  for (const uri of ["http://127.0.0.1:9/other", `${REDIRECT}?extra=1`, `${REDIRECT}/`, "https://evil.test/callback"]) {
    const url = new URL(base);
    url.searchParams.set("redirect_uri", uri);
    const answer = await visit(url);
    assert.equal(answer.status, 400, uri);
    assert.equal(answer.location, null, `no redirect for ${uri}`);
    assert.match(answer.body, /did not register/);
  }
  const repeated = new URL(base);
  repeated.searchParams.append("redirect_uri", "https://evil.test/callback");
  const answer = await visit(repeated);
  assert.equal(answer.status, 400);
  assert.equal(answer.location, null);
  const unknown = new URL(base);
  unknown.searchParams.set("client_id", "c_0000000000000000");
  assert.equal((await visit(unknown)).status, 400);
});

test("a public client must use PKCE, and then signs in without a secret", async () => {
  await setUp();
  const noPkce = oidc.buildAuthorizationUrl(spa.config, { redirect_uri: REDIRECT, scope: "openid", state: "s1" });
  const refused = await visit(noPkce);
  assert.equal(refused.status, 302);
  assert.equal(refused.location.searchParams.get("error"), "invalid_request");
  assert.equal(refused.location.searchParams.get("state"), "s1");
  assert.equal(refused.location.searchParams.get("code"), null);
  const { checks, answer } = await authorize(spa);
  const tokens = await oidc.authorizationCodeGrant(spa.config, answer.location, checks);
  assert.equal(tokens.claims().aud, spa.id);
});

test("prompt=none without a session answers login_required; without it the browser goes to sign in", async () => {
  await setUp();
  const url = oidc.buildAuthorizationUrl(portal.config, { redirect_uri: REDIRECT, scope: "openid", state: "s2", prompt: "none" });
  const answer = await visit(url, null);
  assert.equal(answer.location.searchParams.get("error"), "login_required");
  assert.equal(answer.location.searchParams.get("state"), "s2");
  const plain = oidc.buildAuthorizationUrl(portal.config, { redirect_uri: REDIRECT, scope: "openid", state: "s3", login_hint: "admin@demo.test" });
  const toLogin = await visit(plain, null);
  assert.equal(toLogin.location.pathname, "/login");
  const next = toLogin.location.searchParams.get("next");
  assert.ok(next.startsWith("/oauth2/authorize?"), next);
  assert.equal(toLogin.location.searchParams.get("email"), "admin@demo.test");
  // prompt=login with a session: sign in again, and come back without asking twice.
  const again = await visit(oidc.buildAuthorizationUrl(portal.config, { redirect_uri: REDIRECT, scope: "openid", prompt: "login" }));
  assert.equal(again.location.pathname, "/login");
  assert.match(again.location.searchParams.get("next"), /login_after=\d+/);
  assert.doesNotMatch(again.location.searchParams.get("next"), /prompt=login/);
});

test("the operator lists, shows, rotates and deletes apps; an old secret stops at once", async () => {
  await setUp();
  const dev = stack.dev;
  const list = await porterctl(dev, ["client", "list"]);
  assert.match(list, new RegExp(`${portal.id}\\s+Support portal\\s+confidential`));
  assert.match(list, new RegExp(`${spa.id}\\s+Docs\\s+public`));
  const shown = JSON.parse(await porterctl(dev, ["client", "show", portal.id]));
  assert.deepEqual(shown.redirect_uris, [REDIRECT]);
  assert.ok(!JSON.stringify(shown).includes(portal.secret), "the secret is never shown again");
  const rotated = created(await porterctl(dev, ["client", "rotate-secret", portal.id]));
  assert.notEqual(rotated.secret, portal.secret);
  // A token request with an unknown code: the old secret is refused as the client, the new
  // one gets as far as the code.
  const ask = (secret) =>
    fetch(`${dev.baseUrl}/oauth2/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ grant_type: "authorization_code", code: "0".repeat(64), redirect_uri: REDIRECT, client_id: portal.id, client_secret: secret }),
    }).then(async (r) => [r.status, (await r.json()).error]);
  assert.deepEqual(await ask(portal.secret), [401, "invalid_client"]);
  assert.deepEqual(await ask(rotated.secret), [400, "invalid_grant"]);
  portal.secret = rotated.secret;
  portal.config = await oidc.discovery(new URL(dev.baseUrl), portal.id, undefined, oidc.ClientSecretBasic(portal.secret), insecure);
  const temp = created(await porterctl(dev, ["client", "create", "--name", "Temporary", "--redirect-uri", REDIRECT]));
  assert.match(await porterctl(dev, ["client", "delete", temp.id]), /removed/);
  assert.doesNotMatch(await porterctl(dev, ["client", "list"]), new RegExp(temp.id));
  await assert.rejects(porterctl(dev, ["client", "create", "--name", "Bad", "--redirect-uri", "http://app.example.test/cb"]), /https/);
});

test("logout ends the Porter session, returns to the app, and its refresh token dies with it", async () => {
  await setUp();
  const { checks, answer } = await authorize(portal);
  const tokens = await oidc.authorizationCodeGrant(portal.config, answer.location, checks);
  const unregistered = oidc.buildEndSessionUrl(portal.config, { id_token_hint: tokens.id_token, post_logout_redirect_uri: "https://evil.test/" });
  const refusedVisit = await visit(unregistered, null);
  assert.equal(refusedVisit.location, null, "an unregistered address gets a page");
  assert.equal(refusedVisit.status, 400);
  const url = oidc.buildEndSessionUrl(portal.config, { id_token_hint: tokens.id_token, post_logout_redirect_uri: AFTER_LOGOUT, state: "bye" });
  const out = await visit(url);
  assert.equal(out.status, 302);
  assert.equal(out.location.href, `${AFTER_LOGOUT}?state=bye`);
  await assert.rejects(oidc.refreshTokenGrant(portal.config, tokens.refresh_token), refusedWith("invalid_grant"));
  await assert.rejects(oidc.fetchUserInfo(portal.config, tokens.access_token, tokens.claims().sub));
  const me = await fetch(`${stack.dev.baseUrl}/api/me`, { headers: { cookie } });
  assert.equal(me.status, 401, "the Porter session is over");
  // Without a session, the authorization endpoint sends the browser to sign in again.
  assert.equal((await authorize(portal)).answer.location.pathname, "/login");
});
