// @ts-check
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { totp } from "./totp.mjs";

/** @typedef {import("playwright-core").Page} Page */

/** @param {boolean} condition @param {string} message */
export function check(condition, message) {
  if (!condition) throw new Error(`check failed: ${message}`);
}

/** Screenshots for people to look at, under web/test-artifacts/. @param {string} dir @param {string} prefix */
export function screenshotter(dir, prefix) {
  mkdirSync(dir, { recursive: true });
  let n = 0;
  /** @param {Page} page @param {string} name */
  return async (page, name) => {
    n += 1;
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: join(dir, `${prefix}-${String(n).padStart(2, "0")}-${name}.png`), fullPage: true });
  };
}

/** Open a screen from the main navigation (through the menu button on phones). @param {Page} page @param {string} label */
export async function goTo(page, label) {
  const toggle = page.locator(".menu-toggle");
  if (await toggle.isVisible()) await toggle.click();
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: label, exact: true }).click();
  await page.getByRole("heading", { level: 1, name: label === "Live trades" ? "Live trades" : label }).waitFor();
}

/** @param {Page} page */
export async function signOut(page) {
  const toggle = page.locator(".menu-toggle");
  if (await toggle.isVisible()) await toggle.click();
  await page.getByRole("navigation", { name: "Main" }).getByRole("button", { name: "Sign out" }).click();
  await page.getByRole("heading", { level: 1, name: "Sign in" }).waitFor();
}

/** @param {Page} page @param {string} email @param {string} password */
export async function fillSignIn(page, email, password) {
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
}

/** A code that stays valid for a few seconds: wait out the end of a 30 s step. @param {string} secret */
const usedStep = new Map();

/**
 * A code the server will accept: not about to expire, and from a 30-second step after
 * any code this run already used for the secret (the server accepts each step once,
 * RFC 6238 §5.2, so a second code in the same step would be refused as a replay).
 * @param {string} secret
 */
export async function freshCode(secret) {
  for (;;) {
    const now = Date.now() / 1000;
    const step = Math.floor(now / 30);
    const intoStep = now % 30;
    const used = usedStep.get(secret) ?? -1;
    if (step > used && intoStep <= 26) {
      usedStep.set(secret, step);
      return totp(secret);
    }
    const wait = step > used ? 30 - intoStep + 0.5 : (used + 1) * 30 - now + 0.5;
    await new Promise((done) => setTimeout(done, wait * 1000));
  }
}

/** The page must not scroll sideways at its viewport width. @param {Page} page @param {string} where */
export async function checkNoHorizontalScroll(page, where) {
  const { scroll, width } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, width: window.innerWidth }));
  check(scroll <= width, `${where}: content is ${scroll}px wide in a ${width}px viewport`);
}
