import { useEffect, useRef, useState, type ReactNode } from "react";

type Overflow = "none" | "start" | "middle" | "end";

/** Where a box stands in its horizontal scroll: no overflow, at the start, in the middle or at the end. */
export function overflowOf(scrollLeft: number, scrollWidth: number, clientWidth: number): Overflow {
  if (scrollWidth - clientWidth <= 1) return "none";
  if (scrollLeft <= 1) return "start";
  if (scrollLeft + clientWidth >= scrollWidth - 1) return "end";
  return "middle";
}

/**
 * A wide table's horizontal scroll box: focusable so a keyboard can scroll it (WCAG 2.1.1),
 * named for screen readers, with a shadow on the side that has more and a visible cue
 * when the table is wider than the screen.
 */
export function TableScroll({ label, children, testId }: { label: string; children: ReactNode; testId?: string }) {
  const box = useRef<HTMLDivElement>(null);
  const [overflow, setOverflow] = useState<Overflow>("none");
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const update = () => setOverflow(overflowOf(el.scrollLeft, el.scrollWidth, el.clientWidth));
    update();
    el.addEventListener("scroll", update, { passive: true });
    const observer = typeof ResizeObserver === "undefined" ? null : new ResizeObserver(update);
    observer?.observe(el);
    if (el.firstElementChild) observer?.observe(el.firstElementChild);
    return () => {
      el.removeEventListener("scroll", update);
      observer?.disconnect();
    };
  }, []);
  return (
    <div className="table-scroll" data-overflow={overflow}>
      <div ref={box} className="table-wrap" tabIndex={0} role="region" aria-label={label} data-testid={testId}>
        {children}
      </div>
      {overflow !== "none" && (
        <p className="scroll-cue" aria-hidden="true" data-testid="scroll-cue">
          {overflow === "end" ? "← Scroll back" : "Scroll sideways for more →"}
        </p>
      )}
    </div>
  );
}
