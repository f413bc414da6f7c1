import { useEffect, useRef } from "react";
import {
  CandlestickSeries,
  ColorType,
  LineSeries,
  createChart,
  createSeriesMarkers,
  type IChartApi,
  type ISeriesApi,
  type ISeriesMarkersPluginApi,
  type SeriesType,
  type Time,
  type UTCTimestamp,
} from "lightweight-charts";
import type { LinePoint, Ohlc, TradeMarker } from "../../lib/chartData";
import { formatZAR } from "../../lib/format";

interface PriceChartProps {
  /** candles when available; otherwise `line` (e.g. fill prices) */
  candles?: Ohlc[];
  line?: LinePoint[];
  markers?: TradeMarker[];
  /** overlay indicator lines, e.g. a moving average */
  overlays?: Array<{ label: string; color: string; points: LinePoint[] }>;
  label: string;
  height?: number;
}

const ts = (t: number) => t as UTCTimestamp;

/** Price chart (lightweight-charts) with trade markers; redraws in place as data arrives. */
export function PriceChart({ candles, line, markers = [], overlays = [], label, height = 320 }: PriceChartProps) {
  const container = useRef<HTMLDivElement>(null);
  const chart = useRef<IChartApi | null>(null);
  const main = useRef<ISeriesApi<SeriesType> | null>(null);
  const markerApi = useRef<ISeriesMarkersPluginApi<Time> | null>(null);
  const overlaySeries = useRef<Array<ISeriesApi<"Line">>>([]);
  const useCandles = (candles?.length ?? 0) > 0;

  useEffect(() => {
    if (!container.current) return;
    const c = createChart(container.current, {
      autoSize: true,
      height,
      layout: { background: { type: ColorType.Solid, color: "#131a2e" }, textColor: "#a9b3cc", attributionLogo: false },
      grid: { vertLines: { color: "#1f2a47" }, horzLines: { color: "#1f2a47" } },
      rightPriceScale: { borderColor: "#2c3859" },
      timeScale: { borderColor: "#2c3859", timeVisible: true, secondsVisible: true },
      localization: { locale: "en-ZA", priceFormatter: (p: number) => formatZAR(p) },
    });
    chart.current = c;
    main.current = useCandles
      ? c.addSeries(CandlestickSeries, { upColor: "#3ddc97", downColor: "#ff8080", borderVisible: false, wickUpColor: "#3ddc97", wickDownColor: "#ff8080" })
      : c.addSeries(LineSeries, { color: "#4cc2ff", lineWidth: 2 });
    markerApi.current = createSeriesMarkers(main.current, []);
    return () => {
      c.remove();
      chart.current = null;
      main.current = null;
      markerApi.current = null;
      overlaySeries.current = [];
    };
  }, [useCandles, height]);

  useEffect(() => {
    const series = main.current;
    if (!series) return;
    if (useCandles) series.setData((candles ?? []).map((c) => ({ ...c, time: ts(c.time) })));
    else series.setData((line ?? []).map((p) => ({ time: ts(p.time), value: p.value })));
    markerApi.current?.setMarkers(markers.map((m) => ({ ...m, time: ts(m.time) })));
    chart.current?.timeScale().fitContent();
  }, [candles, line, markers, useCandles]);

  useEffect(() => {
    const c = chart.current;
    if (!c) return;
    for (const s of overlaySeries.current) c.removeSeries(s);
    overlaySeries.current = overlays.map((o) => {
      const s = c.addSeries(LineSeries, { color: o.color, lineWidth: 1, priceLineVisible: false, lastValueVisible: false, title: o.label });
      s.setData(o.points.map((p) => ({ time: ts(p.time), value: p.value })));
      return s;
    });
  }, [overlays, useCandles]);

  return <div ref={container} className="price-chart" role="img" aria-label={label} style={{ height }} data-testid="price-chart" />;
}
