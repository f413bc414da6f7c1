import { useEffect, useMemo, useState } from "react";

/** Shows recovery codes exactly once; the person confirms they saved them to continue. */
export function RecoveryCodes({ codes, onDone }: { codes: string[]; onDone: () => void }) {
  const [saved, setSaved] = useState(false);
  const [copied, setCopied] = useState(false);
  const text = codes.join("\n");
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setCopied(true);
    } catch {
      setCopied(false);
    }
  };
  const download = useMemo(() => URL.createObjectURL(new Blob([`Amarktai Network recovery codes\n\n${text}\n`], { type: "text/plain" })), [text]);
  useEffect(() => () => URL.revokeObjectURL(download), [download]);
  return (
    <div className="recovery">
      <p>
        <strong>Save these recovery codes now.</strong> Each one signs you in once if you lose your authenticator. They will not be
        shown again.
      </p>
      <ul className="code-grid" aria-label="Recovery codes" data-testid="recovery-codes">
        {codes.map((code) => (
          <li key={code}>
            <code>{code}</code>
          </li>
        ))}
      </ul>
      <div className="button-row">
        <button type="button" className="btn btn-secondary" onClick={() => void copy()}>
          {copied ? "Copied" : "Copy codes"}
        </button>
        <a className="btn btn-secondary" href={download} download="amarktai-recovery-codes.txt">
          Download .txt
        </a>
      </div>
      <label className="checkbox">
        <input type="checkbox" checked={saved} onChange={(e) => setSaved(e.target.checked)} />I have saved my recovery codes somewhere safe
      </label>
      <button type="button" className="btn btn-primary" disabled={!saved} onClick={onDone}>
        Continue
      </button>
    </div>
  );
}
