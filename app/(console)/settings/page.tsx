import type { Metadata } from "next";
import { ComingNext } from "../../_components/ui";

export const metadata: Metadata = { title: "Settings" };

export default function SettingsPage() {
  return (
    <ComingNext
      title="Settings"
      description="Autonomous Approval and the console's users."
      items={[
        "Autonomous Approval: approve requests at once for trusted users, low-risk applications and chosen computers, up to a maximum duration.",
        "Console users: invite admins, approvers and auditors, change roles, and disable accounts.",
      ]}
    />
  );
}
