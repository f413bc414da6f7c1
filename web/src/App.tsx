import type { ReactElement } from "react";
import { AuthProvider, useAuth } from "./auth/AuthContext";
import { AppShell } from "./components/AppShell";
import { OfflineBanner } from "./components/OfflineBanner";
import { Loading } from "./components/StateViews";
import { usePath } from "./router/hashRouter";
import { Admin } from "./screens/Admin";
import { Dashboard } from "./screens/Dashboard";
import { NotFound } from "./screens/NotFound";
import { Onboarding } from "./screens/Onboarding";
import { Register } from "./screens/Register";
import { Settings } from "./screens/Settings";
import { SignIn } from "./screens/SignIn";
import { BotDetail } from "./screens/bots/BotDetail";
import { Bots } from "./screens/bots/BotsList";
import { LiveTrades } from "./screens/LiveTrades";
import { Risk } from "./screens/Risk";
import { Wallet } from "./screens/Wallet";
import { LiveProvider } from "./live/LiveContext";

const SIGNED_IN_ROUTES: Record<string, () => ReactElement> = {
  "/": () => <Dashboard />,
  "/welcome": () => <Onboarding />,
  "/register": () => <Onboarding />,
  "/bots": () => <Bots />,
  "/trades": () => <LiveTrades />,
  "/wallet": () => <Wallet />,
  "/risk": () => <Risk />,
  "/settings": () => <Settings />,
};

function SignedIn() {
  const path = usePath();
  const { state } = useAuth();
  const admin = state.user?.role === "admin";
  const botId = /^\/bots\/([A-Za-z0-9_-]+)$/.exec(path)?.[1];
  const screen = path === "/admin" && admin ? <Admin /> : botId ? <BotDetail key={botId} id={botId} /> : (SIGNED_IN_ROUTES[path]?.() ?? <NotFound />);
  return (
    <LiveProvider>
      <AppShell>{screen}</AppShell>
    </LiveProvider>
  );
}

function SignedOut() {
  const path = usePath();
  return (
    <>
      <div className="banner-wrap">
        <OfflineBanner />
      </div>
      {path === "/register" ? <Register /> : <SignIn />}
    </>
  );
}

function Gate() {
  const { state } = useAuth();
  if (state.status === "restoring")
    return (
      <main className="auth-layout" id="main">
        <div className="banner-wrap">
          <OfflineBanner />
        </div>
        <div className="stack">
          <Loading label="Restoring your session…" />
          {state.error && (
            <p className="muted small" data-testid="restore-waiting">
              {state.error} You stay signed in; this resumes when the connection returns.
            </p>
          )}
        </div>
      </main>
    );
  return state.status === "signedIn" ? <SignedIn /> : <SignedOut />;
}

export function App() {
  return (
    <AuthProvider>
      <Gate />
    </AuthProvider>
  );
}
