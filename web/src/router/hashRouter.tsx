import { useSyncExternalStore, type AnchorHTMLAttributes, type ReactNode } from "react";

/**
 * A tiny hash router: paths live after "#", so the server only ever serves index.html
 * at "/" and deep links survive reloads without any server-side fallback.
 */
export function pathFromHash(hash: string): string {
  const path = hash.replace(/^#/, "").split("?")[0] ?? "";
  return path.startsWith("/") ? path : "/";
}

function subscribe(onChange: () => void): () => void {
  window.addEventListener("hashchange", onChange);
  return () => window.removeEventListener("hashchange", onChange);
}

export function usePath(): string {
  return useSyncExternalStore(subscribe, () => pathFromHash(window.location.hash), () => "/");
}

export function navigate(path: string, { replace = false }: { replace?: boolean } = {}): void {
  if (pathFromHash(window.location.hash) === path) return;
  if (replace) {
    window.history.replaceState(null, "", `#${path}`);
    window.dispatchEvent(new HashChangeEvent("hashchange"));
  } else {
    window.location.hash = path;
  }
}

interface LinkProps extends Omit<AnchorHTMLAttributes<HTMLAnchorElement>, "href"> {
  to: string;
  children: ReactNode;
}

export function Link({ to, children, ...rest }: LinkProps) {
  const current = usePath() === to;
  return (
    <a href={`#${to}`} aria-current={current ? "page" : undefined} {...rest}>
      {children}
    </a>
  );
}
