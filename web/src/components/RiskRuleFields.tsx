import type { FieldErrors, FormValues } from "../lib/riskSettings";
import { Field } from "./Field";

interface Rule {
  key: string;
  label: string;
  hint: string;
}

/** Inputs for percent / amount / count rules (lib/riskSettings.ts); each shows its error in place of its hint. */
export function RiskRuleFields({ rules, values, errors, onChange }: { rules: readonly Rule[]; values: FormValues; errors: FieldErrors; onChange: (values: FormValues) => void }) {
  return (
    <div className="form-grid">
      {rules.map((rule) => {
        const error = errors[rule.key];
        return (
          <Field
            key={rule.key}
            label={rule.label}
            name={rule.key}
            value={values[rule.key] ?? ""}
            onChange={(e) => onChange({ ...values, [rule.key]: e.target.value })}
            inputMode="decimal"
            autoComplete="off"
            placeholder="off"
            aria-invalid={error ? true : undefined}
            hint={error ? <span className="field-error">{error}</span> : rule.hint}
          />
        );
      })}
    </div>
  );
}
