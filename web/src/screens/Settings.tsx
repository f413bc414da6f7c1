import { Page } from "../components/Page";
import { featureOn, useFeatures } from "../lib/features";
import { ApiKeysPanel } from "./settings/ApiKeysPanel";
import { SessionsPanel } from "./settings/SessionsPanel";
import { TwoFactorPanel } from "./settings/TwoFactorPanel";

export function Settings() {
  const features = useFeatures();
  return (
    <Page title="Settings" intro="Exchange keys, sign-in security and devices.">
      {featureOn(features, "exchange_keys") && <ApiKeysPanel />}
      <TwoFactorPanel />
      <SessionsPanel />
    </Page>
  );
}
