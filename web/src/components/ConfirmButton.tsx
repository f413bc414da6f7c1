import { useId, useRef, useState, type ReactNode } from "react";

interface ConfirmButtonProps {
  /** The button's visible text; give an accessible name via `label` when it is ambiguous. */
  children: ReactNode;
  label?: string;
  title: string;
  message: ReactNode;
  confirmText: string;
  onConfirm: () => Promise<void> | void;
  className?: string;
}

/** A button that asks in a modal <dialog> (focus-trapped, Esc closes) before acting. */
export function ConfirmButton({ children, label, title, message, confirmText, onConfirm, className }: ConfirmButtonProps) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [busy, setBusy] = useState(false);
  const titleId = useId();
  const confirm = async () => {
    setBusy(true);
    try {
      await onConfirm();
    } finally {
      setBusy(false);
      dialog.current?.close();
    }
  };
  return (
    <>
      <button type="button" className={className ?? "btn btn-danger"} aria-label={label} onClick={() => dialog.current?.showModal()}>
        {children}
      </button>
      <dialog ref={dialog} className="dialog" aria-labelledby={titleId}>
        <h2 id={titleId} className="dialog-title">{title}</h2>
        <div className="dialog-body">{message}</div>
        <div className="dialog-actions">
          <button type="button" className="btn btn-secondary" onClick={() => dialog.current?.close()} autoFocus>
            Cancel
          </button>
          <button type="button" className="btn btn-danger" onClick={() => void confirm()} disabled={busy}>
            {busy ? "Working…" : confirmText}
          </button>
        </div>
      </dialog>
    </>
  );
}
