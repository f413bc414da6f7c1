import { Page } from "../components/Page";
import { EmptyState } from "../components/StateViews";
import { Link } from "../router/hashRouter";

export function NotFound() {
  return (
    <Page title="Page not found">
      <EmptyState title="There is nothing at this address." action={<Link to="/" className="btn btn-primary">Go to the dashboard</Link>} />
    </Page>
  );
}
