// `make dev`'s demo app: a first-party app on loopback that signs in with Porter through
// npm openid-client (a certified relying party), unmodified but for allowing http on this
// machine. It shows the ID token's claims and userinfo, refreshes, and signs out
// (RP-Initiated Logout). Prints "PORT <n>" first, then reads one line from stdin:
// {"issuer", "client_id", "client_secret"} (the dev server registers the client once it knows
// the port). Exits when its parent closes stdin.
import http from "node:http";
import { randomBytes } from "node:crypto";
import * as oidc from "openid-client";

const args = process.argv.slice(2);
const arg = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const port = Number(arg("port", "0"));
let settings = null;
let config = null;
const sessions = new Map();

const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

async function configuration() {
  if (!config) {
    config = await oidc.discovery(
      new URL(settings.issuer),
      settings.client_id,
      undefined,
      oidc.ClientSecretBasic(settings.client_secret),
      { execute: [oidc.allowInsecureRequests] },
    );
  }
  return config;
}

function page(res, status, title, body) {
  res.writeHead(status, {
    "content-type": "text/html; charset=utf-8",
    "cache-control": "no-store",
    "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
  });
  res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem}
td,th{text-align:left;padding:.2rem .6rem;border-bottom:1px solid #ccc;vertical-align:top}</style></head>
<body><main><h1>${escape(title)}</h1>${body}</main></body></html>`);
}

function session(req, res) {
  const m = /(?:^|;\s*)demo_sid=([0-9a-f]{32})/.exec(req.headers.cookie || "");
  if (m && sessions.has(m[1])) return sessions.get(m[1]);
  const id = randomBytes(16).toString("hex");
  const s = { id };
  sessions.set(id, s);
  res.setHeader("set-cookie", `demo_sid=${id}; Path=/; HttpOnly; SameSite=Lax`);
  return s;
}

function table(obj) {
  const rows = Object.entries(obj)
    .map(([k, v]) => `<tr><th scope="row">${escape(k)}</th><td id="claim-${escape(k)}">${escape(typeof v === "string" ? v : JSON.stringify(v))}</td></tr>`)
    .join("");
  return `<table>${rows}</table>`;
}

function redirect(res, to) {
  res.writeHead(302, { location: to, "cache-control": "no-store" });
  res.end();
}

async function handle(req, res, base) {
  const url = new URL(req.url, base);
  const s = session(req, res);
  if (!settings) return page(res, 503, "Demo app", "<p>Not configured yet.</p>");
  const cfg = await configuration();
  switch (url.pathname) {
    case "/": {
      if (!s.claims) {
        return page(res, 200, "Demo app", `<p>This app signs in with Porter.</p><p><a href="/login">Sign in with Porter</a></p>`);
      }
      return page(res, 200, "Demo app",
        `<p id="signed-in">Signed in as ${escape(s.claims.email || s.claims.sub)}</p>
<h2>ID token claims</h2>${table(s.claims)}
<h2>Userinfo</h2>${table(s.userinfo || {})}
<p><a href="/refresh">Refresh the tokens</a> · <a href="/logout">Sign out</a></p>`);
    }
    case "/login": {
      s.verifier = oidc.randomPKCECodeVerifier();
      s.state = oidc.randomState();
      s.nonce = oidc.randomNonce();
      const target = oidc.buildAuthorizationUrl(cfg, {
        redirect_uri: `${base}/callback`,
        scope: "openid email profile offline_access",
        code_challenge: await oidc.calculatePKCECodeChallenge(s.verifier),
        code_challenge_method: "S256",
        state: s.state,
        nonce: s.nonce,
      });
      return redirect(res, target.href);
    }
    case "/callback": {
      const tokens = await oidc.authorizationCodeGrant(cfg, url, {
        pkceCodeVerifier: s.verifier,
        expectedState: s.state,
        expectedNonce: s.nonce,
        idTokenExpected: true,
      });
      s.tokens = tokens;
      s.claims = tokens.claims();
      s.userinfo = await oidc.fetchUserInfo(cfg, tokens.access_token, s.claims.sub);
      return redirect(res, "/");
    }
    case "/refresh": {
      if (!s.tokens?.refresh_token) return redirect(res, "/");
      const tokens = await oidc.refreshTokenGrant(cfg, s.tokens.refresh_token);
      s.tokens = tokens;
      s.userinfo = await oidc.fetchUserInfo(cfg, tokens.access_token, s.claims.sub);
      return redirect(res, "/");
    }
    case "/logout": {
      const hint = s.tokens?.id_token;
      sessions.delete(s.id);
      if (!hint) return redirect(res, "/");
      const target = oidc.buildEndSessionUrl(cfg, { id_token_hint: hint, post_logout_redirect_uri: `${base}/` });
      return redirect(res, target.href);
    }
    default:
      return page(res, 404, "Not found", "<p>There is nothing here.</p>");
  }
}

const server = http.createServer();
server.listen(port, "127.0.0.1", () => {
  const base = `http://127.0.0.1:${server.address().port}`;
  server.on("request", (req, res) => {
    handle(req, res, base).catch((e) => {
      console.error(e);
      page(res, 400, "Sign-in failed", `<p role="alert" id="error">${escape(e.error || e.code || "error")}: ${escape(e.error_description || e.message)}</p><p><a href="/">Back</a></p>`);
    });
  });
  process.stdout.write(`PORT ${server.address().port}\n`);
});
let input = "";
process.stdin.on("data", (chunk) => {
  input += chunk;
  const line = input.indexOf("\n");
  if (line >= 0 && !settings) settings = JSON.parse(input.slice(0, line));
});
process.stdin.on("end", () => process.exit(0));
process.stdin.resume();
