import { Page } from "../components/Page";
import { ApiKeysPanel } from "./settings/ApiKeysPanel";
import { SessionsPanel } from "./settings/SessionsPanel";
import { TwoFactorPanel } from "./settings/TwoFactorPanel";

export function Settings() {
  return (
    <Page title="Settings" intro="Exchange keys, sign-in security and devices.">
      <ApiKeysPanel />
      <TwoFactorPanel />
      <SessionsPanel />
    </Page>
  );
}
