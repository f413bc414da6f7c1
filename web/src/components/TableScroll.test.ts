import { describe, expect, it } from "vitest";
import { overflowOf } from "./TableScroll";

describe("overflowOf", () => {
  it("tells where a wide table's scroll stands", () => {
    expect(overflowOf(0, 300, 300)).toBe("none");
    expect(overflowOf(0, 600, 300)).toBe("start");
    expect(overflowOf(120, 600, 300)).toBe("middle");
    expect(overflowOf(300, 600, 300)).toBe("end");
  });
});
