import type { NextConfig } from "next";

const nextConfig: NextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  // `npm run typecheck` checks the whole repository (core, server, agent, app) with one tsconfig.
  typescript: { ignoreBuildErrors: true },
  // NEXT_DIST_DIR lets several builds live side by side (parallel work trees, tests); the server reads the same config.
  distDir: process.env.NEXT_DIST_DIR || ".next",
};

export default nextConfig;
