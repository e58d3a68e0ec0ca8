// `make screenshots`: a PNG of every page in both themes (and the console at phone width),
// from a scripted journey against a fresh local stack, into screenshots/ (ignored by git).
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { startDevServer, launchBrowser, readyDemoAdmin } from "./harness.mjs";

const out = join(process.cwd(), "..", "..", "screenshots");
mkdirSync(out, { recursive: true });

const dev = await startDevServer();
const browser = await launchBrowser();
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const page = await context.newPage();
  const shots = [];
  for (const scheme of ["light", "dark"]) {
    await page.emulateMedia({ colorScheme: scheme });
    await page.goto(`${dev.baseUrl}/login`);
    await page.screenshot({ path: join(out, `login-${scheme}.png`), fullPage: true });
    shots.push(`login-${scheme}.png`);
  }
  await page.emulateMedia({ colorScheme: "light" });
  await readyDemoAdmin(dev, page);
  const pages = [
    ["dashboard", "/app"],
    ["users", "/app/configuration/users"],
    ["sso", "/app/configuration/sso"],
    ["api", "/app/configuration/api"],
    ["signin", "/app/configuration/signin"],
    ["audit", "/app/configuration/audit"],
    ["account", "/app/account"],
  ];
  for (const [width, suffix] of [[1280, ""], [375, "-phone"]]) {
    await page.setViewportSize({ width, height: 860 });
    for (const scheme of ["light", "dark"]) {
      await page.emulateMedia({ colorScheme: scheme });
      for (const [name, path] of pages) {
        await page.goto(`${dev.baseUrl}${path}`);
        await page.locator("#shell").waitFor();
        await page.waitForLoadState("networkidle");
        const file = `${name}${suffix}-${scheme}.png`;
        await page.screenshot({ path: join(out, file), fullPage: true });
        shots.push(file);
      }
    }
  }
  console.log(`${shots.length} screenshots in ${out}`);
} finally {
  await browser.close();
  await dev.stop();
}
