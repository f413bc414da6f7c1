import type { VarResult } from "../api/types";

export interface VarMethod {
  id: string;
  label: string;
}

export interface VarMethodNote {
  method: string;
  label: string;
  kind: "fallback" | "capped";
  text: string;
}

/** True when the row's figures are not the asked method's (Cornish-Fisher outside its
 *  validity domain answers with historical VaR/CVaR): the table must not pass them off as
 *  Cornish-Fisher. */
export function fellBack(r: VarResult): boolean {
  return r.method_used !== undefined && r.method_used !== r.method;
}

/** What the VaR card says under its table, per method: a fallback or a 100 % cap. The words
 *  are the server's note (it names the skew and kurtosis that broke the expansion); only
 *  methods whose figures were changed get a line, so a plain "no loss expected" stays in the
 *  hero where it was. */
export function varMethodNotes(methods: readonly VarMethod[], results: ReadonlyArray<VarResult | Error | undefined>): VarMethodNote[] {
  const notes: VarMethodNote[] = [];
  methods.forEach((m, i) => {
    const r = results[i];
    if (!r || r instanceof Error) return;
    if (fellBack(r) || r.fallback_reason) {
      notes.push({ method: m.id, label: m.label, kind: "fallback", text: r.note ?? r.fallback_reason ?? `Shows ${r.method_used ?? "another method"}.` });
    } else if (r.capped) {
      notes.push({ method: m.id, label: m.label, kind: "capped", text: r.note ?? "Capped at 100% of the portfolio's value." });
    }
  });
  return notes;
}
