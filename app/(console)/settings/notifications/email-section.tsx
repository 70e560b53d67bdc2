"use client";
// Placeholder until its owner fills it in (issue 9).
export function EmailSection() {
  return null;
}
