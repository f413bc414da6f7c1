import { Page } from "../components/Page";
import { AuditPanel } from "./admin/AuditPanel";
import { UsersPanel } from "./admin/UsersPanel";

export function Admin() {
  return (
    <Page title="Admin" intro="People on this platform and the tamper-evident record of what they did.">
      <UsersPanel />
      <AuditPanel />
    </Page>
  );
}
