import { useEffect, useState, type ReactNode } from "react";
import { useAuth, useUser } from "../auth/AuthContext";
import { Link, usePath } from "../router/hashRouter";
import { LiveIndicator } from "../live/LiveContext";
import { OfflineBanner } from "./OfflineBanner";

export interface NavItem {
  path: string;
  label: string;
  adminOnly?: boolean;
}

export const NAV_ITEMS: NavItem[] = [
  { path: "/", label: "Dashboard" },
  { path: "/bots", label: "Bots" },
  { path: "/trades", label: "Live trades" },
  { path: "/wallet", label: "Wallet" },
  { path: "/risk", label: "Risk" },
  { path: "/settings", label: "Settings" },
  { path: "/admin", label: "Admin", adminOnly: true },
];

export function AppShell({ children }: { children: ReactNode }) {
  const user = useUser();
  const { signOut } = useAuth();
  const path = usePath();
  const [menuOpen, setMenuOpen] = useState(false);
  useEffect(() => setMenuOpen(false), [path]);
  const items = NAV_ITEMS.filter((item) => !item.adminOnly || user.role === "admin");

  return (
    <div className="shell">
      <a className="skip-link" href="#main" onClick={(e) => { e.preventDefault(); document.getElementById("main")?.focus(); }}>
        Skip to content
      </a>
      <header className="topbar">
        <Link to="/" className="brand">
          <img src="/favicon.svg" alt="" width="28" height="28" />
          <span>Amarktai</span>
        </Link>
        <div className="topbar-right">
          <LiveIndicator />
          <button type="button" className="btn btn-ghost menu-toggle" aria-expanded={menuOpen} aria-controls="primary-nav" onClick={() => setMenuOpen((open) => !open)}>
          {menuOpen ? "Close" : "Menu"}
          </button>
        </div>
      </header>
      <nav id="primary-nav" className={menuOpen ? "sidenav open" : "sidenav"} aria-label="Main">
        <ul>
          {items.map((item) => (
            <li key={item.path}>
              <Link to={item.path}>{item.label}</Link>
            </li>
          ))}
        </ul>
        <div className="sidenav-footer">
          <p className="muted small account" title={user.email}>
            {user.email}
            <br />
            <span className="badge">{user.role}</span>
          </p>
          <a href="/docs" target="_blank" rel="noopener" className="small">
            API docs ↗
          </a>
          <button type="button" className="btn btn-secondary btn-block" onClick={() => void signOut()}>
            Sign out
          </button>
        </div>
      </nav>
      <main id="main" className="content" tabIndex={-1}>
        <OfflineBanner />
        {children}
      </main>
    </div>
  );
}
