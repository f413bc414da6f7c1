import type { Band } from "../api/types";

const TEXT: Record<Band, string> = { green: "Low", amber: "Elevated", red: "High" };

/** The VaR colour band, with its meaning in words (colour is never the only signal). */
export function RiskBandBadge({ band }: { band: Band }) {
  return (
    <span className={`band band-${band}`} data-testid="var-band" data-band={band}>
      <span className="band-dot" aria-hidden="true" />
      {TEXT[band] ?? band} risk
    </span>
  );
}
