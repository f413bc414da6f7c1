import { useEffect, useRef, type CSSProperties, type ReactNode } from "react";

/** The first screen after a page load keeps the browser's focus start, so Tab reaches the skip link. */
let firstScreen = true;

/** A screen with its heading; after in-app navigation the heading takes focus so screen readers announce the page. */
export function Page({ title, intro, children, actions }: { title: string; intro?: ReactNode; children: ReactNode; actions?: ReactNode }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${title} · Amarktai Network`;
    if (firstScreen) firstScreen = false;
    else heading.current?.focus({ preventScroll: true });
  }, [title]);
  return (
    <section className="page" aria-labelledby="page-title">
      <header className="page-header">
        <div>
          <h1 id="page-title" ref={heading} tabIndex={-1}>
            {title}
          </h1>
          {intro && <p className="page-intro">{intro}</p>}
        </div>
        {actions && <div className="page-actions">{actions}</div>}
      </header>
      {children}
    </section>
  );
}

/**
 * A titled panel. `reserve` = [phone, wide] minimum heights in px: the space its loaded
 * content takes, kept from the first render so nothing below jumps when data arrives (CLS).
 */
export function Panel({ title, children, id, description, reserve }: { title: string; children: ReactNode; id?: string; description?: ReactNode; reserve?: readonly [number, number] }) {
  const headingId = `${id ?? title.toLowerCase().replace(/[^a-z0-9]+/g, "-")}-title`;
  const style = reserve ? ({ "--reserve": `${reserve[0]}px`, "--reserve-wide": `${reserve[1]}px` } as CSSProperties) : undefined;
  return (
    <section className={reserve ? "panel panel-reserved" : "panel"} id={id} aria-labelledby={headingId} style={style}>
      <h2 id={headingId}>{title}</h2>
      {description && <p className="panel-description">{description}</p>}
      {children}
    </section>
  );
}
