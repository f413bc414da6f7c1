import type { Bin, Fan } from "../../lib/chartData";

/* Small SVG charts: no chart library needed for a histogram, a fan and a line. */

const W = 640;
const H = 240;
const PAD = { top: 8, right: 4, bottom: 4, left: 4 };

function scale(d0: number, d1: number, r0: number, r1: number) {
  const span = d1 - d0 || 1;
  return (v: number) => r0 + ((v - d0) / span) * (r1 - r0);
}

export interface Marker {
  value: number;
  label: string;
  color: string;
}

/** A histogram of outcomes; bins left of `threshold` (losses beyond VaR) are coloured as danger. */
export function Histogram({ bins, label, markers = [], format, testId }: { bins: Bin[]; label: string; markers?: Marker[]; format: (v: number) => string; testId?: string }) {
  if (bins.length === 0) return null;
  const x0 = Math.min(bins[0]!.x0, ...markers.map((m) => m.value));
  const x1 = Math.max(bins[bins.length - 1]!.x1, ...markers.map((m) => m.value));
  const maxCount = Math.max(...bins.map((b) => b.count), 1);
  const x = scale(x0, x1, PAD.left, W - PAD.right);
  const y = scale(0, maxCount, H - PAD.bottom, PAD.top);
  const threshold = markers[0]?.value ?? -Infinity;
  return (
    <figure className="svg-chart" data-testid={testId}>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={label} preserveAspectRatio="none">
        <line x1={PAD.left} x2={W - PAD.right} y1={H - PAD.bottom} y2={H - PAD.bottom} stroke="#2c3859" />
        {bins.map((b, i) => {
          const left = x(b.x0);
          const width = Math.max(1, x(b.x1) - left - 1);
          return (
            <rect key={i} x={left} width={width} y={y(b.count)} height={H - PAD.bottom - y(b.count)} fill={b.x1 <= threshold ? "#ff8080" : "#4cc2ff"} opacity={0.85}>
              <title>{`${format(b.x0)} to ${format(b.x1)}: ${b.count}`}</title>
            </rect>
          );
        })}
        {markers.map((m) => (
          <g key={m.label}>
            <line x1={x(m.value)} x2={x(m.value)} y1={PAD.top} y2={H - PAD.bottom} stroke={m.color} strokeWidth={2} strokeDasharray="5 4" vectorEffect="non-scaling-stroke" />
          </g>
        ))}
      </svg>
      <div className="axis" aria-hidden="true"><span>{format(x0)}</span><span>{format(x1)}</span></div>
      {markers.length > 0 && (
        <figcaption className="legend">
          {markers.map((m) => (
            <span key={m.label}><span className="swatch" style={{ background: m.color }} aria-hidden="true" />{m.label}: {format(m.value)}</span>
          ))}
        </figcaption>
      )}
    </figure>
  );
}

/** Percentile bands of simulated equity paths around the median. */
export function FanChart({ fan, label, format, stepLabel = "day" }: { fan: Fan; label: string; format: (v: number) => string; stepLabel?: string }) {
  const all = [...fan.median, ...fan.bands.flatMap((b) => [...b.lowerValues, ...b.upperValues])].filter(Number.isFinite);
  if (all.length === 0 || fan.steps < 2) return null;
  const lo = Math.min(...all);
  const hi = Math.max(...all);
  const x = scale(0, fan.steps - 1, PAD.left, W - PAD.right);
  const y = scale(lo, hi, H - PAD.bottom, PAD.top);
  const path = (values: number[]) => values.map((v, i) => `${i === 0 ? "M" : "L"}${x(i).toFixed(1)},${y(v).toFixed(1)}`).join("");
  const area = (lower: number[], upper: number[]) =>
    `${path(upper)}${lower.map((v, i) => ({ v, i })).reverse().map(({ v, i }) => `L${x(i).toFixed(1)},${y(v).toFixed(1)}`).join("")}Z`;
  const opacities = [0.18, 0.3, 0.45];
  return (
    <figure className="svg-chart" data-testid="fan-chart">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={label} preserveAspectRatio="none">
        {fan.bands.map((b, i) => (
          <path key={`${b.lower}-${b.upper}`} d={area(b.lowerValues, b.upperValues)} fill="#4cc2ff" opacity={opacities[i] ?? 0.5} />
        ))}
        <path d={path(fan.median)} fill="none" stroke="#e8ecf6" strokeWidth={2} vectorEffect="non-scaling-stroke" />
      </svg>
      <div className="axis" aria-hidden="true"><span>{`${stepLabel} 0`}</span><span>{`${stepLabel} ${fan.steps - 1}`}</span></div>
      <figcaption className="legend">
        <span><span className="swatch" style={{ background: "#e8ecf6" }} aria-hidden="true" />median</span>
        <span>range {format(lo)} to {format(hi)}</span>
        {fan.bands.map((b) => (
          <span key={b.lower}>{`${b.lower}–${b.upper}th percentile`}</span>
        ))}
      </figcaption>
    </figure>
  );
}

/** A small equity line (sparkline with axis labels). */
export function LineChart({ values, label, format, testId }: { values: number[]; label: string; format: (v: number) => string; testId?: string }) {
  const finite = values.filter(Number.isFinite);
  if (finite.length < 2) return null;
  const lo = Math.min(...finite);
  const hi = Math.max(...finite);
  const h = 160;
  const x = scale(0, finite.length - 1, 4, W - 4);
  const y = scale(lo, hi === lo ? lo + 1 : hi, h - 20, 14);
  const d = finite.map((v, i) => `${i === 0 ? "M" : "L"}${x(i).toFixed(1)},${y(v).toFixed(1)}`).join("");
  const up = finite[finite.length - 1]! >= finite[0]!;
  return (
    <figure className="svg-chart" data-testid={testId}>
      <svg viewBox={`0 0 ${W} ${h}`} role="img" aria-label={label} preserveAspectRatio="none">
        <path d={d} fill="none" stroke={up ? "#3ddc97" : "#ff8080"} strokeWidth={2} vectorEffect="non-scaling-stroke" />
      </svg>
      <figcaption className="legend">
        <span>low {format(lo)}</span>
        <span>high {format(hi)}</span>
      </figcaption>
    </figure>
  );
}
