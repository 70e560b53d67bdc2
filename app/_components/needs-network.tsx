"use client";
// For the parts of a detail page that only the server has (the full audit trail, policy versions, Test access):
// offline, a short note in their place instead of a spinner that waits for the network.
import type { ReactNode } from "react";
import { useSync } from "../_lib/db/sync-provider";
import { Alert } from "./ui";

export function NeedsNetwork({ what, children }: { what: string; children: ReactNode }) {
  const { online } = useSync();
  if (online) return <>{children}</>;
  return (
    <Alert tone="info" title="Needs the network">
      {what} comes from the server: it shows here once this device is back online.
    </Alert>
  );
}
