import type { Metadata } from "next";
import { ComingNext } from "../../_components/ui";

export const metadata: Metadata = { title: "Requests" };

export default function RequestsPage() {
  return (
    <ComingNext
      title="Requests"
      description="Just-in-time elevation requests that end users send from their computers."
      items={[
        "See pending requests with the user, computer, application and justification, and Approve or Decline each one.",
        "Shorten the requested duration when approving, up to the configured maximum.",
        "See active grants and revoke one at any time; see the history of every request.",
        "See which requests Autonomous Approval approved, and by which rule.",
      ]}
    />
  );
}
