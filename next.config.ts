import type { NextConfig } from "next";

const nextConfig: NextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  // `npm run typecheck` checks the whole repository (core, server, agent, app) with one tsconfig.
  typescript: { ignoreBuildErrors: true },
  // NEXT_DIST_DIR lets several builds live side by side (parallel work trees, tests); the server reads the same config.
  distDir: process.env.NEXT_DIST_DIR || ".next",
  // The console is never framed by another site, never sniffed, and leaks no paths in Referer.
  async headers() {
    return [
      {
        source: "/:path*",
        headers: [
          { key: "X-Frame-Options", value: "DENY" },
          { key: "Content-Security-Policy", value: "frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'" },
          { key: "X-Content-Type-Options", value: "nosniff" },
          { key: "Referrer-Policy", value: "same-origin" },
          { key: "Permissions-Policy", value: "camera=(), microphone=(), geolocation=()" },
        ],
      },
    ];
  },
};

export default nextConfig;
