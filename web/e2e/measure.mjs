// @ts-check
/**
 * Measurements, not pass/fail: per screen at 375 px (mobile) the cumulative layout shift
 * during load (PerformanceObserver 'layout-shift'), the bytes transferred, and axe-core's
 * violations. Usage: node e2e/measure.mjs [path/to/dist]   (default web/dist)
 */
import { AxeBuilder } from "@axe-core/playwright";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { startBackend } from "./lib/backend.mjs";
import { launchChromium } from "./lib/browser.mjs";
import { fillSignIn, goTo } from "./lib/ui.mjs";

const webRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const webDist = resolve(process.argv[2] ?? resolve(webRoot, "dist"));
const demo = { email: "demo@example.com", password: "demo password 123" };
const backend = await startBackend({ repoRoot: resolve(webRoot, ".."), webDist, env: { AMARKTAI_DEMO_EMAIL: demo.email, AMARKTAI_DEMO_PASSWORD: demo.password } });
const browser = await launchChromium();
const CLS = `window.__cls = 0; new PerformanceObserver((list) => { for (const e of list.getEntries()) if (!e.hadRecentInput) window.__cls += e.value; }).observe({ type: "layout-shift", buffered: true });`;
try {
  for (const width of [375, 1366]) {
    const context = await browser.newContext({ baseURL: backend.baseUrl, viewport: { width, height: width === 375 ? 812 : 800 }, isMobile: width === 375, deviceScaleFactor: width === 375 ? 2 : 1 });
    await context.addInitScript(CLS);
    const page = await context.newPage();
    let bytes = 0;
    page.on("requestfinished", async (request) => {
      if (request.url().includes("/assets/")) bytes += (await request.sizes()).responseBodySize;
    });
    await page.goto("/");
    await fillSignIn(page, demo.email, demo.password);
    await page.getByRole("heading", { level: 1, name: "Dashboard" }).waitFor();
    for (const screen of ["Dashboard", "Bots", "Live trades", "Wallet", "Risk"]) {
      if (screen !== "Dashboard") await goTo(page, screen);
      // A cold load of the screen: reload so the shift of the first render is measured.
      await page.reload();
      await page.getByRole("heading", { level: 1 }).first().waitFor();
      await page.waitForFunction(() => document.querySelectorAll(".state-loading").length === 0, undefined, { timeout: 30_000 }).catch(() => undefined);
      await page.waitForTimeout(1500);
      const cls = await page.evaluate(() => /** @type {any} */ (window).__cls);
      const axe = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
      const violations = axe.violations.map((v) => `${v.id}:${v.impact}×${v.nodes.length}`).join(", ") || "none";
      console.log(`${width}px ${screen.padEnd(12)} CLS ${cls.toFixed(3)}  axe: ${violations}`);
    }
    console.log(`${width}px asset bytes on the wire (encoded bodies, all loads incl. the service worker's precache): ${bytes}`);
    await context.close();
  }
} finally {
  await browser.close();
  await backend.stop();
}
