import { describe, expect, it } from "vitest";
import { pathFromHash } from "./hashRouter";

describe("pathFromHash", () => {
  it("reads the path after #", () => {
    expect(pathFromHash("#/settings")).toBe("/settings");
    expect(pathFromHash("#/admin?x=1")).toBe("/admin");
  });
  it("defaults to the dashboard", () => {
    expect(pathFromHash("")).toBe("/");
    expect(pathFromHash("#main")).toBe("/");
  });
});
