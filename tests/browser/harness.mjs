// Shared by the browser tests: the real dev server (moto, table, demo tenant, every function)
// on a free localhost port, and headless Debian Chromium driven by Playwright.
import { spawn, execFile, execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, after } from "node:test";
import { chromium } from "playwright-core";

const root = new URL("../../", import.meta.url).pathname;

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Starts `porter-dev` and resolves once it printed its URL and the demo activation link. */
const binDir = process.env.PORTER_BIN_DIR || join(process.env.CARGO_TARGET_DIR || join(root, "target"), "debug");

export async function startDevServer() {
  const bin = join(binDir, "porter-dev");
  const port = await freePort();
  const envFile = join(mkdtempSync(join(tmpdir(), "porter-browser-")), "local.env");
  const child = spawn(bin, ["--port", String(port), "--moto-port", "0", "--env-file", envFile], {
    cwd: root,
    env: {
      ...process.env,
      AWS_ACCESS_KEY_ID: "test",
      AWS_SECRET_ACCESS_KEY: "test",
      AWS_REGION: "us-east-1",
      AWS_EC2_METADATA_DISABLED: "true",
      AWS_ENDPOINT_URL: "http://127.0.0.1:9",
      RUST_LOG: "warn",
    },
    stdio: ["pipe", "pipe", "inherit"],
  });
  let out = "";
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`dev server did not start:\n${out}`)), 60_000);
    child.stdout.on("data", (chunk) => {
      out += chunk;
      const link = out.match(/activation link: (\S+)/);
      if (link && out.includes("Press Ctrl-C")) {
        clearTimeout(timer);
        resolve(link[1]);
      }
    });
    child.on("exit", (code) => reject(new Error(`dev server exited (${code}):\n${out}`)));
  });
  const demoLink = await ready;
  const env = Object.fromEntries(
    readFileSync(envFile, "utf8").split("\n").filter(Boolean).map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
  );
  const demoApp = out.match(/Demo app \(signs in with Porter, client (c_[0-9a-z]{16})\): (\S+)/);
  return {
    env,
    baseUrl: `http://localhost:${port}`,
    demoLink,
    // make dev's app that signs in with Porter (its OpenID provider).
    demoApp: demoApp && { clientId: demoApp[1], url: demoApp[2] },
    async outbox() {
      const resp = await fetch(`http://localhost:${port}/_dev/outbox.json`);
      return resp.json();
    },
    // Text messages moto's SNS recorded, newest first: [{id, to, body}].
    async texts() {
      const resp = await fetch(`http://localhost:${port}/_dev/texts.json`);
      return resp.json();
    },
    stop() {
      return new Promise((resolve) => {
        child.once("exit", resolve);
        child.kill("SIGINT");
      });
    },
  };
}

export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/** The activation link in the newest outbox message to `to`. */
export function activationLinkFrom(mails, to) {
  const mail = mails.find((m) => m.to.includes(to));
  if (!mail) throw new Error(`no email to ${to} in the outbox`);
  const m = mail.body.match(/href="([^"]*\/activate\?token=[0-9a-f]{64})"/);
  if (!m) throw new Error(`no activation link in: ${mail.body}`);
  return { mail, link: m[1].replaceAll("&amp;", "&") };
}

/** Runs porterctl against the dev server's stack (its `.porter/local.env`). */
export function porterctl(dev, args) {
  return new Promise((resolve, reject) => {
    execFile(join(binDir, "porterctl"), args, { env: { ...process.env, ...dev.env } }, (err, stdout, stderr) =>
      err ? reject(new Error(`porterctl ${args.join(" ")}: ${stderr}`)) : resolve(stdout),
    );
  });
}

/** One DynamoDB call straight to moto (which does not check signatures). */
async function dynamo(dev, op, body) {
  const resp = await fetch(dev.env.AWS_ENDPOINT_URL, {
    method: "POST",
    headers: {
      "Content-Type": "application/x-amz-json-1.0",
      "X-Amz-Target": `DynamoDB_20120810.${op}`,
      Authorization: "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0",
    },
    body: JSON.stringify({ TableName: dev.env.PORTER_TABLE, ...body }),
  });
  const data = await resp.json();
  if (!resp.ok) throw new Error(`${op}: ${JSON.stringify(data)}`);
  return data;
}

/** Moves an authorization code's end `secs` into the past, as if it had waited that long. */
export async function ageCode(dev, code, secs) {
  const hash = createHash("sha256").update(code).digest("hex");
  await dynamo(dev, "UpdateItem", {
    Key: { pk: { S: `OAUTHCODE#${hash}` }, sk: { S: "CODE" } },
    UpdateExpression: "SET expires_at = :t",
    ExpressionAttributeValues: { ":t": { N: String(Math.floor(Date.now() / 1000) - secs) } },
  });
}

/** One item of the table, as DynamoDB returns it (or undefined). */
export async function tableItem(dev, pk, sk) {
  const { Item } = await dynamo(dev, "GetItem", { Key: { pk: { S: pk }, sk: { S: sk } } });
  return Item;
}

/** Signs in at the local provider's development form as `email` and consents. */
export async function passProvider(page, providerBase, email) {
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

/** Moves an invitation `secs` into the past, as if it had been emailed that long ago. */
export async function ageInvitation(dev, link, secs) {
  const token = new URL(link).searchParams.get("token");
  const hash = createHash("sha256").update(token).digest("hex");
  const key = { pk: { S: `TOKEN#${hash}` }, sk: { S: "TOKEN" } };
  const { Item } = await dynamo(dev, "GetItem", { Key: key });
  const past = String(Math.floor(Date.now() / 1000) - secs);
  await dynamo(dev, "UpdateItem", {
    Key: key,
    UpdateExpression: "SET expires_at = :t",
    ExpressionAttributeValues: { ":t": { N: past } },
  });
  await dynamo(dev, "UpdateItem", {
    Key: { pk: { S: `TENANT#${Item.tid.S}` }, sk: { S: `USER#${Item.uid.S}` } },
    UpdateExpression: "SET invited_at = :t",
    ExpressionAttributeValues: { ":t": { N: past } },
  });
}

export const PASSWORD = "tangerine orbit kettle 94";

/** Sets the password from an activation link. */
export async function activate(page, link) {
  await page.goto(link);
  await page.getByLabel("New password").fill(PASSWORD);
  await page.getByLabel("Re-enter the password").fill(PASSWORD);
  await page.getByRole("button", { name: "Activate my account" }).click();
  await page.getByRole("heading", { name: "Your account is active" }).waitFor();
}

/** Email and password on the sign-in page. */
export async function signInWithPassword(dev, page, email) {
  await page.goto(`${dev.baseUrl}/login`);
  await page.locator("#email").fill(email);
  await page.getByRole("button", { name: "Continue" }).click();
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
}

/** The recovery-codes step: ten codes, "I saved them", continue. */
export async function saveCodes(page) {
  await page.getByRole("heading", { name: "Save your recovery codes" }).waitFor();
  if ((await page.locator("#codes li").count()) !== 10) throw new Error("expected ten recovery codes");
  await page.getByLabel("I saved them somewhere safe").check();
  await page.getByRole("button", { name: "Continue" }).click();
}

/** The first admin's setup step. */
export async function finishSetup(page, name, { a11y = false } = {}) {
  const heading = page.getByRole("heading", { name: "Set up your organisation" });
  await heading.waitFor();
  // The form takes the content area, not the empty navigation column beside it.
  const width = (await heading.boundingBox()).width;
  const viewport = page.viewportSize().width;
  if (width < Math.min(400, viewport * 0.8)) throw new Error(`the setup heading is squeezed to ${width} px`);
  // axe needs a page of a context the test made (browser.newContext()).
  if (a11y) await checkA11y(page, "setup");
  await page.getByLabel("Organisation name").fill(name);
  await page.getByRole("button", { name: "Finish setup" }).click();
}

/** Enrols an authenticator app on the enrolment step; returns its secret. */
export async function enrolTotp(page) {
  await page.getByRole("button", { name: /Authenticator app/ }).click();
  await page.getByAltText("QR code for your authenticator app").waitFor();
  const secret = (await page.locator("#totp-secret").textContent()).trim();
  const code = execFileSync("oathtool", ["--totp", "-b", secret]).toString().trim();
  await page.getByLabel("Enter the 6-digit code the app shows").fill(code);
  await page.getByRole("button", { name: "Turn on" }).click();
  await saveCodes(page);
  return secret;
}

/** The demo admin from the invitation to the users page: activated, an authenticator app
 * enrolled, the organisation named. */
export async function readyDemoAdmin(dev, page, options = {}) {
  const { link } = activationLinkFrom(await dev.outbox(), "admin@demo.test");
  await activate(page, link);
  await signInWithPassword(dev, page, "admin@demo.test");
  await enrolTotp(page);
  await finishSetup(page, "Demo Company", options);
  await page.waitForURL((u) => u.pathname === "/app/configuration/users");
}

/** Starts a dev server and a browser before the file's tests and stops both after them. */
export function useStack() {
  const stack = {};
  before(async () => {
    stack.dev = await startDevServer();
    stack.browser = await launchBrowser();
  });
  after(async () => {
    await stack.browser?.close();
    await stack.dev?.stop();
  });
  return stack;
}

/** Signs out through the person's menu in the top bar. */
export async function signOut(page) {
  await page.locator("#user-button").click();
  await page.getByRole("button", { name: "Sign out" }).click();
}

/** axe-core on the page as it stands: no serious or critical violation. */
export async function checkA11y(page, where) {
  const { default: AxeBuilder } = await import("@axe-core/playwright");
  const results = await new AxeBuilder({ page }).analyze();
  const bad = results.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  if (bad.length) {
    const lines = bad.map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", ")}`);
    throw new Error(`accessibility of ${where}:\n${lines.join("\n")}`);
  }
  return results.violations.length;
}

/** Whether the page scrolls sideways. */
export async function scrollsSideways(page) {
  return page.evaluate(() => document.documentElement.scrollWidth > document.documentElement.clientWidth + 1);
}
