import type { Metadata } from "next";
import { Logo } from "../_components/logo";
import { buttonClass } from "../_components/ui";
import { RetryButton } from "./retry-button";

export const metadata: Metadata = { title: "Offline" };

// The service worker's fallback for a page it has not stored (e.g. one policy's page) when there is no network.
// Plain links: each is a full navigation that the service worker answers from its cache.
const PAGES = [
  { href: "/requests", label: "Requests" },
  { href: "/policies", label: "Policies" },
  { href: "/computers", label: "Computers" },
  { href: "/allowlist", label: "Allowlist" },
  { href: "/events", label: "Events" },
  { href: "/settings", label: "Settings" },
] as const;

export default function OfflinePage() {
  return (
    <main id="main" className="mx-auto flex min-h-dvh max-w-md flex-col justify-center gap-6 px-4 py-10">
      <Logo />
      <div className="space-y-2">
        <h1 className="text-xl font-semibold text-zinc-900">This page needs the network</h1>
        <p className="text-sm text-zinc-600">
          You are offline, and this page is not stored on this device. Try again when you are back online, or open one of
          the console&apos;s pages, which work offline.
        </p>
      </div>
      <RetryButton />
      <nav aria-label="Console pages">
        <ul className="grid grid-cols-2 gap-2">
          {PAGES.map((p) => (
            <li key={p.href}>
              <a href={p.href} className={buttonClass("secondary", "w-full")}>
                {p.label}
              </a>
            </li>
          ))}
        </ul>
      </nav>
    </main>
  );
}
