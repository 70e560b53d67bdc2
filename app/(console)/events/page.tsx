import type { Metadata } from "next";
import { ComingNext } from "../../_components/ui";

export const metadata: Metadata = { title: "Events" };

export default function EventsPage() {
  return (
    <ComingNext
      title="Events"
      description="The Just-In-Time events report: the audit trail of every elevation, request and decision."
      items={[
        "Filter events by computer, user, application, policy and time.",
        "See who elevated what, when, where and why, who approved it, and which rule or policy decided.",
        "Verify the trail: each event carries the hash of the one before it.",
      ]}
    />
  );
}
