import { Page } from "../components/Page";
import { AuditPanel } from "./admin/AuditPanel";
import { FeaturesPanel } from "./admin/FeaturesPanel";
import { UsersPanel } from "./admin/UsersPanel";

export function Admin() {
  return (
    <Page title="Admin" intro="People on this platform, what each role may use, and the tamper-evident record of what they did.">
      <UsersPanel />
      <FeaturesPanel />
      <AuditPanel />
    </Page>
  );
}
