"use client";
// Placeholder until its owner fills it in (issue 9).
export function WebhooksSection() {
  return null;
}
