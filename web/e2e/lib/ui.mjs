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

/**
 * Stat tiles: no value breaks over two lines (a number split mid-digit), and no tile
 * sticks out of its row. @param {Page} page @param {string} where
 */
export async function checkStatValues(page, where) {
  const broken = await page.evaluate(() => {
    const bad = [];
    for (const dd of document.querySelectorAll(".stats dd, .big-number")) {
      const range = document.createRange();
      range.selectNodeContents(dd);
      const tops = new Set([...range.getClientRects()].filter((r) => r.width > 0 && r.height > 0).map((r) => Math.round(r.bottom)));
      const lineHeight = parseFloat(getComputedStyle(dd).lineHeight) || 24;
      const tile = dd.closest(".stats > div") ?? dd;
      const list = dd.closest(".stats") ?? dd.parentElement;
      const outside = list ? tile.getBoundingClientRect().right > list.getBoundingClientRect().right + 1 : false;
      // Inline badges sit a few pixels lower than the text: lines are a line-height apart.
      const bottoms = [...tops].sort((a, b) => a - b);
      const lines = bottoms.filter((b, i) => i === 0 || b - (bottoms[i - 1] ?? b) > lineHeight * 0.6).length;
      if (lines > 1 || outside || dd.scrollWidth > dd.clientWidth + 1) bad.push(`${dd.textContent} (${lines} lines${outside ? ", outside its row" : ""})`);
    }
    return bad;
  });
  check(broken.length === 0, `${where}: stat values on one line inside their tiles: ${broken.join("; ")}`);
}

/**
 * Tables wider than the screen sit in a focusable, named scroll region with a visible
 * scroll cue (axe scrollable-region-focusable, WCAG 2.1.1). @param {Page} page @param {string} where
 * @returns {Promise<number>} how many tables overflow
 */
export async function checkScrollRegions(page, where) {
  const result = await page.evaluate(() => {
    const bad = [];
    let wide = 0;
    for (const box of document.querySelectorAll(".table-wrap")) {
      const el = /** @type {HTMLElement} */ (box);
      if (el.scrollWidth <= el.clientWidth + 1) continue;
      wide += 1;
      const cue = el.parentElement?.querySelector(".scroll-cue");
      const visible = cue instanceof HTMLElement && cue.offsetHeight > 0;
      if (el.tabIndex !== 0 || el.getAttribute("role") !== "region" || !el.getAttribute("aria-label") || !visible)
        bad.push(`${el.getAttribute("aria-label") ?? el.innerText.slice(0, 30)} (tabindex ${el.tabIndex}, role ${el.getAttribute("role")}, cue ${visible})`);
    }
    return { bad, wide };
  });
  check(result.bad.length === 0, `${where}: wide tables are focusable named regions with a scroll cue: ${result.bad.join("; ")}`);
  return result.wide;
}
