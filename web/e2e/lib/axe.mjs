// @ts-check
import { AxeBuilder } from "@axe-core/playwright";
import { check } from "./ui.mjs";

/** @typedef {import("playwright-core").Page} Page */

/**
 * axe-core (WCAG 2.0/2.1 A and AA rules) on the page as it is now: no serious or critical
 * violation. Returns the minor/moderate ones for the log. @param {Page} page @param {string} where
 */
export async function checkAxe(page, where) {
  const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  const grave = results.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  const describe = (/** @type {typeof results.violations} */ list) =>
    list.map((v) => `${v.id} (${v.impact}, ${v.nodes.length}×: ${v.nodes.slice(0, 2).map((n) => n.target.join(" ")).join(", ")})`).join("; ");
  check(grave.length === 0, `${where}: axe finds no serious/critical violation: ${describe(grave)}`);
  return results.violations.filter((v) => !grave.includes(v));
}
