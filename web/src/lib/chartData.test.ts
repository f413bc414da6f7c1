import { describe, expect, it } from "vitest";
import type { Candle, Fill } from "../api/types";
import { candlesToOhlc, fanFromPaths, fanFromPercentiles, fillsToLine, fillsToMarkers, histogram, quantile, riskBand } from "./chartData";

const candle = (ts: string, close: string): Candle => ({ ts, open: "10", high: "12", low: "9", close, volume: "1" });
const fill = (ts: string, side: "buy" | "sell", price = "100"): Fill => ({
  id: ts + side, order_id: "o", bot_id: "b", ts, symbol: "BTC/ZAR", side, price, qty: "0.1", fee: "0.1",
});

describe("chart data", () => {
  it("turns candles into sorted, de-duplicated OHLC in seconds", () => {
    const rows = candlesToOhlc([candle("2026-01-01T00:00:10Z", "11"), candle("2026-01-01T00:00:05Z", "10"), candle("2026-01-01T00:00:10Z", "12"), candle("bad", "1")]);
    expect(rows.map((r) => r.time)).toEqual([1767225605, 1767225610]);
    expect(rows[1]!.close).toBe(12);
  });

  it("puts trade markers on the bar each fill belongs to, sorted", () => {
    const markers = fillsToMarkers([fill("2026-01-01T00:00:13.7Z", "sell"), fill("2026-01-01T00:00:06Z", "buy")], 5);
    expect(markers).toEqual([
      { time: 1767225605, position: "belowBar", color: "#3ddc97", shape: "arrowUp", text: "B" },
      { time: 1767225610, position: "aboveBar", color: "#ff8080", shape: "arrowDown", text: "S" },
    ]);
    expect(fillsToMarkers([fill("2026-01-01T00:00:06Z", "buy")], 5, [1767225610, 1767225615])).toEqual([]);
  });

  it("draws a price line from fills", () => {
    expect(fillsToLine([fill("2026-01-01T00:00:06Z", "buy", "101.5")])).toEqual([{ time: 1767225606, value: 101.5 }]);
  });

  it("bins a histogram with the maximum in the last bin", () => {
    const bins = histogram([0, 1, 2, 3, 4, 10], 5);
    expect(bins).toHaveLength(5);
    expect(bins.reduce((n, b) => n + b.count, 0)).toBe(6);
    expect(bins[0]).toEqual({ x0: 0, x1: 2, count: 2 });
    expect(bins[4]!.count).toBe(1);
    expect(histogram([3, 3, 3])).toEqual([{ x0: 3, x1: 3, count: 3 }]);
    expect(histogram([])).toEqual([]);
  });

  it("computes quantiles and fan charts", () => {
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
    const fan = fanFromPercentiles({ p95: [3, 4], p5: [1, 0], p50: [2, 2] });
    expect(fan).toEqual({ steps: 2, median: [2, 2], bands: [{ lower: 5, upper: 95, lowerValues: [1, 0], upperValues: [3, 4] }] });
    const fromPaths = fanFromPaths([[1, 1], [1, 2], [1, 3]], [5, 50, 95]);
    expect(fromPaths?.median).toEqual([1, 2]);
    expect(fromPaths?.bands[0]?.upperValues[1]).toBeCloseTo(2.9);
  });

  it("bands risk by share of equity", () => {
    expect(riskBand(100, 10000)).toBe("green");
    expect(riskBand(300, 10000)).toBe("amber");
    expect(riskBand(-600, 10000)).toBe("red");
    expect(riskBand(1, 0)).toBe("green");
  });
});

describe("indicator lines", () => {
  it("keeps price-scale indicators and drops the rest", async () => {
    const { indicatorLines } = await import("./chartData");
    const trace = (ts: string, close: string, indicators: Record<string, unknown>) => ({ trace: { bar: { ts, close }, indicators } });
    const lines = indicatorLines([
      trace("2026-01-01T00:00:10Z", "100", { sma_fast: 101, rsi: 55 }),
      trace("2026-01-01T00:00:05Z", "100", { sma_fast: 99, rsi: 40 }),
    ]);
    expect(Object.keys(lines)).toEqual(["sma_fast"]);
    expect(lines.sma_fast!.map((p) => p.value)).toEqual([99, 101]);
  });
});
