import { describe, expect, it } from "vitest";
import { describeUserAgent, formatZAR } from "./format";

// Intl separates groups with a (narrow) no-break space in en-ZA; normalise for readable assertions.
const plain = (text: string) => text.replace(/[\u00a0\u202f]/g, " ");

describe("formatZAR", () => {
  it("formats rand with the en-ZA conventions", () => {
    expect(plain(formatZAR(1234567.891))).toBe("R 1 234 567,89");
  });
  it("formats zero and negatives", () => {
    expect(plain(formatZAR(0))).toBe("R 0,00");
    expect(plain(formatZAR(-42.5))).toBe("-R 42,50");
  });
  it("accepts decimal strings from the API", () => {
    expect(plain(formatZAR("1500.2"))).toBe("R 1 500,20");
  });
  it("matches Intl.NumberFormat en-ZA ZAR exactly", () => {
    const reference = new Intl.NumberFormat("en-ZA", { style: "currency", currency: "ZAR" });
    expect(formatZAR(99.999)).toBe(reference.format(99.999));
  });
  it("shows a dash for values that are not numbers", () => {
    expect(formatZAR("abc")).toBe("—");
    expect(formatZAR(Number.NaN)).toBe("—");
    expect(formatZAR(Number.POSITIVE_INFINITY)).toBe("—");
  });
});

describe("describeUserAgent", () => {
  it("names browser and system", () => {
    expect(describeUserAgent("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Safari/537.36")).toBe("Chrome on Linux");
    expect(describeUserAgent(null)).toBe("Unknown device");
  });
});
