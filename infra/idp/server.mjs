// Local OpenID providers for `make dev` and the browser tests, on 127.0.0.1 only:
//   /                      a generic OpenID Connect provider (issuer http://127.0.0.1:PORT)
//   /<directory>/v2.0      an Entra ID stand-in (issuer http://127.0.0.1:PORT/<directory>/v2.0,
//                          ID tokens carry `tid` and `preferred_username` like Entra's)
// Both use oidc-provider's development sign-in form: any address and any password sign in
// as that address. Prints "PORT <n>" first, and exits when its parent closes stdin.
// A --redirect-uri ending in "/" accepts every URI under it: Porter gives each configuration
// its own (/api/login/callback/<ref>), which an admin would register at a real provider.
//
//   node server.mjs --port 0 --redirect-uri http://localhost:3000/api/login/callback/
import http from "node:http";
import Provider from "oidc-provider";

// stdout carries the PORT line only; the parent stops reading after it. Everything the
// provider says goes to stderr, so a closed stdout can never stop the process.
console.log = console.error;
console.info = console.error;
process.stdout.on("error", () => {});

const args = process.argv.slice(2);
const arg = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const port = Number(arg("port", "0"));
const redirectUris = args.flatMap((a, i) => (a === "--redirect-uri" ? [args[i + 1]] : []));
const directory = arg("entra-directory", "11111111-2222-3333-4444-555555555555");
export const CLIENT_ID = arg("client-id", "porter-dev");
// A development credential of this local provider only; it protects nothing real.
const clientSecret = arg("client-secret", "porter-dev-client-secret");

function provider(issuer, extraClaims) {
  const oidc = new Provider(issuer, {
    clients: [
      {
        client_id: CLIENT_ID,
        client_secret: clientSecret,
        redirect_uris: redirectUris,
        grant_types: ["authorization_code"],
        response_types: ["code"],
        token_endpoint_auth_method: "client_secret_basic",
      },
    ],
    // Email and profile claims in the ID token itself, as Entra ID and most providers do.
    conformIdTokenClaims: false,
    claims: {
      openid: ["sub"],
      email: ["email", "email_verified"],
      profile: ["name", "preferred_username", "tid"],
    },
    findAccount: async (_ctx, id) => ({
      accountId: id,
      claims: async () => ({
        sub: id,
        email: id,
        email_verified: true,
        name: id.split("@")[0],
        ...extraClaims(id),
      }),
    }),
    cookies: { keys: ["porter-dev-idp-cookie-key"] },
    features: { devInteractions: { enabled: true } },
  });
  oidc.proxy = false;
  const exact = oidc.Client.prototype.redirectUriAllowed;
  const prefixes = redirectUris.filter((u) => u.endsWith("/"));
  oidc.Client.prototype.redirectUriAllowed = function (value) {
    return prefixes.some((p) => value.startsWith(p) && !value.slice(p.length).includes("/"))
      || exact.call(this, value);
  };
  return oidc;
}

const server = http.createServer();
server.listen(port, "127.0.0.1", () => {
  const base = `http://127.0.0.1:${server.address().port}`;
  const generic = provider(base, () => ({})).callback();
  const prefix = `/${directory}/v2.0`;
  const entra = provider(`${base}${prefix}`, (id) => ({ tid: directory, preferred_username: id })).callback();
  server.on("request", (req, res) => {
    if (req.url === prefix || req.url.startsWith(`${prefix}/`)) {
      req.originalUrl = req.url;
      req.url = req.url.slice(prefix.length) || "/";
      return entra(req, res);
    }
    return generic(req, res);
  });
  process.stdout.write(`PORT ${server.address().port}\n`);
});
process.stdin.on("end", () => process.exit(0));
process.stdin.resume();
