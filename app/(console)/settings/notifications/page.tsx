import type { Metadata } from "next";
import { PageHeader } from "../../../_components/ui";
import { EmailSection } from "./email-section";
import { PushSection } from "./push-section";
import { WebhooksSection } from "./webhooks-section";

export const metadata: Metadata = { title: "Notifications" };

// Settings → Notifications: this device's push notifications, email, and (owners and admins) webhooks with their
// delivery log. Each section is its own component; they need the network (nothing here is kept offline).
export default function NotificationsPage() {
  return (
    <>
      <PageHeader title="Notifications" description="Be told at once when a request waits for you: on this device, by email, or in a chat room." />
      <div className="space-y-10">
        <PushSection />
        <EmailSection />
        <WebhooksSection />
      </div>
    </>
  );
}
