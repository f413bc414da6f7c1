import { describe, expect, it } from "vitest";
import { confirmsStop } from "./stopConfirm";

describe("confirmsStop", () => {
  it("accepts the word in any case, trimmed", () => {
    for (const t of ["STOP", "stop", "Stop", "  stop ", "sToP\n"]) expect(confirmsStop(t)).toBe(true);
  });
  it("refuses anything else", () => {
    for (const t of ["", "sto", "stop!", "s t o p", "stopp", "halt"]) expect(confirmsStop(t)).toBe(false);
  });
});
