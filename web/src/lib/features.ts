import { useEffect, useState } from "react";
import { useAuth } from "../auth/AuthContext";

/** Feature names an admin can hide (server: `amarktai.accounts.features.CATALOGUE`). */
export type FeatureName = "backtests" | "risk_analytics" | "exchange_keys" | "exports" | "live_trading" | "copy_trading" | "chat";

let cached: { key: unknown; user: string | undefined; promise: Promise<Record<string, boolean>> } | null = null;

/**
 * What the signed-in user may use (GET /auth/features), fetched once per sign-in. null
 * while loading. The API refuses a hidden feature anyway; this only keeps the app from
 * offering what the server would refuse.
 */
export function useFeatures(): Record<string, boolean> | null {
  const { api, state } = useAuth();
  const user = state.user?.id;
  const [features, setFeatures] = useState<Record<string, boolean> | null>(null);
  useEffect(() => {
    let live = true;
    // per signed-in user: another account on this device has another role
    if (!cached || cached.key !== api || cached.user !== user) cached = { key: api, user, promise: api.auth.features().then((r) => r.features) };
    cached.promise.then(
      (value) => live && setFeatures(value),
      () => {
        cached = null;
        if (live) setFeatures({}); // unknown: show everything; the server still decides
      },
    );
    return () => {
      live = false;
    };
  }, [api, user]);
  return features;
}

/** On unless the server said it is hidden (an unknown or still-loading answer shows it). */
export function featureOn(features: Record<string, boolean> | null, name: FeatureName): boolean {
  return features?.[name] !== false;
}

/** Forget the cached answer (after an admin changes the table, or on sign-out). */
export function resetFeatures(): void {
  cached = null;
}
