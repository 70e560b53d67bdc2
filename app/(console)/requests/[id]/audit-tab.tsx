"use client";
// The request's Audit tab: its events on the audit trail (submitted, each approval, the decision, how it ended).
import { AuditTrail } from "../../../_components/audit-trail";

export function RequestAuditTab({ requestId }: { requestId: string }) {
  return <AuditTrail requestId={requestId} title="Audit" />;
}
