/** Pure transforms from API shapes to chart data (tested in chartData.test.ts). */
import type { Candle, EquityPoint, Fill } from "../api/types";

export interface Ohlc {
  time: number; // seconds since the epoch (UTC), what lightweight-charts calls UTCTimestamp
  open: number;
  high: number;
  low: number;
  close: number;
}

export interface LinePoint {
  time: number;
  value: number;
}

export interface TradeMarker {
  time: number;
  position: "belowBar" | "aboveBar";
  color: string;
  shape: "arrowUp" | "arrowDown";
  text: string;
}

const seconds = (iso: string) => Math.floor(Date.parse(iso) / 1000);

/** Sorted by time, one point per time (the last wins), unparseable rows dropped. */
function uniqueSorted<T extends { time: number }>(rows: T[]): T[] {
  const byTime = new Map<number, T>();
  for (const row of rows) if (Number.isFinite(row.time)) byTime.set(row.time, row);
  return [...byTime.values()].sort((a, b) => a.time - b.time);
}

export function candlesToOhlc(candles: readonly Candle[]): Ohlc[] {
  return uniqueSorted(
    candles
      .map((c) => ({ time: seconds(c.ts), open: Number(c.open), high: Number(c.high), low: Number(c.low), close: Number(c.close) }))
      .filter((c) => [c.open, c.high, c.low, c.close].every(Number.isFinite)),
  );
}

/** A price line drawn from fills, for when no candles are available. */
export function fillsToLine(fills: readonly Fill[]): LinePoint[] {
  return uniqueSorted(fills.map((f) => ({ time: seconds(f.ts), value: Number(f.price) })).filter((p) => Number.isFinite(p.value)));
}

export function equityToLine(points: readonly EquityPoint[]): LinePoint[] {
  return uniqueSorted(points.map((p) => ({ time: seconds(p.ts), value: Number(p.equity) })).filter((p) => Number.isFinite(p.value)));
}

/**
 * One marker per fill, at the start of the candle it happened in (markers must sit on a
 * bar's time), sorted by time as the chart requires. Buys below the bar, sells above.
 */
export function fillsToMarkers(fills: readonly Fill[], timeframeS: number, barTimes?: readonly number[]): TradeMarker[] {
  const step = Math.max(1, Math.floor(timeframeS));
  const first = barTimes && barTimes.length > 0 ? barTimes[0]! : -Infinity;
  const last = barTimes && barTimes.length > 0 ? barTimes[barTimes.length - 1]! : Infinity;
  return fills
    .map((f) => ({ fill: f, time: Math.floor(seconds(f.ts) / step) * step }))
    .filter(({ time }) => Number.isFinite(time) && time >= first && time <= last)
    .sort((a, b) => a.time - b.time)
    .map(({ fill, time }) => {
      const buy = fill.side === "buy";
      return {
        time,
        position: buy ? "belowBar" : "aboveBar",
        color: buy ? "#3ddc97" : "#ff8080",
        shape: buy ? "arrowUp" : "arrowDown",
        text: buy ? "B" : "S",
      } as TradeMarker;
    });
}

export interface Bin {
  x0: number;
  x1: number;
  count: number;
}

/** Equal-width histogram bins over [min, max]; the last bin includes max. */
export function histogram(values: readonly number[], binCount = 30): Bin[] {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0 || binCount < 1) return [];
  let min = Infinity;
  let max = -Infinity;
  for (const v of finite) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (min === max) return [{ x0: min, x1: max, count: finite.length }];
  const width = (max - min) / binCount;
  const bins: Bin[] = Array.from({ length: binCount }, (_, i) => ({ x0: min + i * width, x1: min + (i + 1) * width, count: 0 }));
  for (const v of finite) bins[Math.min(binCount - 1, Math.floor((v - min) / width))]!.count += 1;
  return bins;
}

/** The q-quantile (0..1) of sorted values, linear interpolation. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * Math.min(1, Math.max(0, q));
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export interface FanBand {
  /** percentile in 0..100, e.g. 5 and 95 for the outer band */
  lower: number;
  upper: number;
  lowerValues: number[];
  upperValues: number[];
}

export interface Fan {
  steps: number;
  median: number[];
  bands: FanBand[];
}

/** Fan chart from per-step percentile series: { "5": [...], "50": [...], "95": [...] } (keys "p5" also accepted). */
export function fanFromPercentiles(series: Record<string, readonly number[]>): Fan | null {
  const entries = Object.entries(series)
    .map(([key, values]) => [Number(String(key).replace(/^p/i, "")), values.map(Number)] as const)
    .filter(([p, values]) => Number.isFinite(p) && values.length > 0)
    .sort((a, b) => a[0] - b[0]);
  if (entries.length === 0) return null;
  const steps = Math.min(...entries.map(([, v]) => v.length));
  const at = (p: number) => entries.find(([q]) => q === p)?.[1].slice(0, steps);
  const median = at(50) ?? entries[Math.floor(entries.length / 2)]![1].slice(0, steps);
  const bands: FanBand[] = [];
  for (let i = 0, j = entries.length - 1; i < j; i += 1, j -= 1) {
    const [lower, lowerValues] = entries[i]!;
    const [upper, upperValues] = entries[j]!;
    if (lower >= 50 || upper <= 50) break;
    bands.push({ lower, upper, lowerValues: lowerValues.slice(0, steps), upperValues: upperValues.slice(0, steps) });
  }
  return { steps, median, bands };
}

/** Fan chart from raw simulated paths (each an equity series of equal length). */
export function fanFromPaths(paths: readonly (readonly number[])[], percentiles = [5, 25, 50, 75, 95]): Fan | null {
  if (paths.length === 0) return null;
  const steps = Math.min(...paths.map((p) => p.length));
  if (steps === 0) return null;
  const series: Record<string, number[]> = {};
  for (const p of percentiles) series[String(p)] = [];
  for (let t = 0; t < steps; t += 1) {
    const column = paths.map((path) => Number(path[t])).sort((a, b) => a - b);
    for (const p of percentiles) series[String(p)]!.push(quantile(column, p / 100));
  }
  return fanFromPercentiles(series);
}

export type RiskBand = "green" | "amber" | "red";

/** Colour band of a loss figure as a share of equity: < 2% green, < 5% amber, otherwise red. */
export function riskBand(loss: number, equity: number, amberFrom = 0.02, redFrom = 0.05): RiskBand {
  if (!Number.isFinite(loss) || !Number.isFinite(equity) || equity <= 0) return "green";
  const share = Math.abs(loss) / equity;
  return share >= redFrom ? "red" : share >= amberFrom ? "amber" : "green";
}

/**
 * Indicator lines for the price chart from decision traces: every numeric indicator whose
 * values sit on the price scale (within half to twice the bar's close), one point per bar.
 */
export function indicatorLines(decisions: ReadonlyArray<{ trace: { indicators?: Record<string, unknown>; bar?: unknown } }>): Record<string, LinePoint[]> {
  const lines: Record<string, LinePoint[]> = {};
  const offScale = new Set<string>();
  for (const d of decisions) {
    const bar = d.trace.bar as { ts?: string; close?: string | number } | undefined;
    if (!bar?.ts) continue;
    const close = Number(bar.close);
    const time = seconds(bar.ts);
    for (const [name, raw] of Object.entries(d.trace.indicators ?? {})) {
      const value = typeof raw === "number" ? raw : typeof raw === "string" ? Number(raw) : NaN;
      if (!Number.isFinite(value) || !Number.isFinite(time)) continue;
      if (!(Number.isFinite(close) && value > close / 2 && value < close * 2)) offScale.add(name);
      (lines[name] ??= []).push({ time, value });
    }
  }
  const out: Record<string, LinePoint[]> = {};
  for (const [name, points] of Object.entries(lines)) if (!offScale.has(name)) out[name] = uniqueSorted(points);
  return out;
}
