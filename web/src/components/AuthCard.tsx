import type { ReactNode } from "react";

/** The centred card used by the signed-out screens. */
export function AuthCard({ title, subtitle, children, footer }: { title: string; subtitle?: ReactNode; children: ReactNode; footer?: ReactNode }) {
  return (
    <main className="auth-layout" id="main">
      <div className="auth-card">
        <div className="brand brand-large">
          <img src="/favicon.svg" alt="" width="40" height="40" />
          <span>Amarktai Network</span>
        </div>
        <h1>{title}</h1>
        {subtitle && <p className="muted">{subtitle}</p>}
        {children}
        {footer && <div className="auth-footer">{footer}</div>}
      </div>
    </main>
  );
}
