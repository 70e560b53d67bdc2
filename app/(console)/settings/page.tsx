import type { Metadata } from "next";
import { AuditSettings } from "../../_components/audit-settings";
import { LinkButton, PageHeader } from "../../_components/ui";
import { SettingsForm } from "./settings-form";

export const metadata: Metadata = { title: "Settings" };

// Each settings area is its own section on this page; further ones (e.g. Audit) go below the request settings.
export default function SettingsPage() {
  return (
    <>
      <PageHeader
        title="Settings"
        description="How users ask for elevation, Autonomous Approval, Two-person approval, and the audit trail."
        actions={
          <LinkButton href="/settings/notifications" variant="secondary">
            Notifications
          </LinkButton>
        }
      />
      <div className="space-y-10">
        <SettingsForm />
        <AuditSettings />
      </div>
    </>
  );
}
