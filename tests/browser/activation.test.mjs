// Journey 2–3 in a real browser: the admin opens the invitation link from the outbox on
// http://localhost, chooses a password and sees the success page.
import { test } from "node:test";
import assert from "node:assert/strict";
import { useStack, activationLinkFrom, porterctl, ageInvitation } from "./harness.mjs";

const stack = useStack();

async function choosePassword(page, password, confirm) {
  await page.getByLabel("New password").fill(password);
  await page.getByLabel("Re-enter the password").fill(confirm);
  await page.getByRole("button", { name: "Activate my account" }).click();
}

test("the admin activates the account from the invitation email", async () => {
  const mails = await stack.dev.outbox();
  const { mail, link } = activationLinkFrom(mails, "admin@demo.test");
  assert.equal(mail.subject, "Welcome to Porter");
  assert.ok(link.startsWith(`${stack.dev.baseUrl}/activate?token=`), link);
  assert.equal(link, stack.dev.demoLink, "the link printed by make dev is the emailed one");

  const page = await stack.browser.newPage();
  await page.goto(link);
  await choosePassword(page, "tangerine orbit kettle 94", "tangerine orbit kettle 94");
  await page.getByRole("heading", { name: "Your account is active" }).waitFor();
  assert.equal(new URL(page.url()).search, "", "the token left the address bar");
  await page.screenshot({ path: process.env.SCREENSHOT_DIR ? `${process.env.SCREENSHOT_DIR}/activated.png` : "/tmp/porter-activated.png" });

  await page.getByRole("link", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Sign in" }).waitFor();

  // The same link again: it was used, and the page says where to go instead.
  const again = await stack.browser.newPage();
  await again.goto(link);
  await choosePassword(again, "another fine passphrase 7", "another fine passphrase 7");
  await again.getByRole("heading", { name: "This link was already used" }).waitFor();
});

test("a mismatched password and an unknown link are explained on the page", async () => {
  // An unknown token: the mismatch is caught in the page, the token by the API.
  const page = await stack.browser.newPage();
  await page.goto(`${stack.dev.baseUrl}/activate?token=${"ab".repeat(32)}`);
  await choosePassword(page, "tangerine orbit kettle 94", "tangerine orbit kettle 95");
  await page.getByText("The two passwords do not match.").waitFor();

  await page.getByLabel("Re-enter the password").fill("tangerine orbit kettle 94");
  await page.getByRole("button", { name: "Activate my account" }).click();
  await page.getByRole("heading", { name: "This link is not valid" }).waitFor();
});

test("the outbox page lists the invitation", async () => {
  const page = await stack.browser.newPage();
  await page.goto(`${stack.dev.baseUrl}/_dev/outbox`);
  await page.getByText("admin@demo.test").first().waitFor();
  assert.equal(await page.locator("article").count(), (await stack.dev.outbox()).length);
});

test("an expired link offers a new one, which works", async () => {
  const email = "bea@beta.test";
  const out = await porterctl(stack.dev, ["tenant", "create", "--name", "Beta", "--admin-email", email]);
  assert.match(out, /invitation emailed/);
  const { link: old } = activationLinkFrom(await stack.dev.outbox(), email);
  await ageInvitation(stack.dev, old, 3 * 24 * 3600);

  const page = await stack.browser.newPage();
  await page.goto(old);
  await choosePassword(page, "tangerine orbit kettle 94", "tangerine orbit kettle 94");
  await page.getByRole("heading", { name: "This link has expired" }).waitFor();
  await page.getByRole("button", { name: "Send me a new link" }).click();
  await page.getByText("A new link is on its way").waitFor();

  const { link: fresh } = activationLinkFrom(await stack.dev.outbox(), email);
  assert.notEqual(fresh, old);
  await page.goto(fresh);
  await choosePassword(page, "tangerine orbit kettle 94", "tangerine orbit kettle 94");
  await page.getByRole("heading", { name: "Your account is active" }).waitFor();
});
