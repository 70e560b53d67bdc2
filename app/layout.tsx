import type { Metadata, Viewport } from "next";
import type { ReactNode } from "react";
import "./globals.css";
import { ServiceWorkerUpdates } from "./_components/service-worker";
import { Providers } from "./providers";

export const metadata: Metadata = {
  title: { default: "JIT Access", template: "%s · JIT Access" },
  description: "Just-in-time privilege elevation for endpoints: time-bound policies, signed bundles, an audit trail.",
  icons: { icon: "/favicon.svg", apple: "/icons/apple-touch-icon.png" },
  appleWebApp: { capable: true, title: "JIT Access", statusBarStyle: "default" },
};

export const viewport: Viewport = { width: "device-width", initialScale: 1, themeColor: "#4f46e5" };

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body className="min-h-dvh font-sans">
        <a
          href="#main"
          className="sr-only focus:not-sr-only focus:fixed focus:left-3 focus:top-3 focus:z-50 focus:inline-flex focus:min-h-11 focus:items-center focus:rounded-lg focus:bg-white focus:px-4 focus:text-sm focus:font-medium focus:text-indigo-700 focus:shadow-lg focus:outline-2 focus:outline-indigo-600"
        >
          Skip to main content
        </a>
        <Providers>{children}</Providers>
        <ServiceWorkerUpdates />
      </body>
    </html>
  );
}
