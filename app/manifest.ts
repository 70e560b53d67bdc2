import type { MetadataRoute } from "next";

// The web app manifest (served at /manifest.webmanifest and linked from every page by Next): installable on a
// phone, opening on Requests. Icons: public/icons/, drawn by scripts/make-icons.mjs.
export default function manifest(): MetadataRoute.Manifest {
  return {
    id: "/",
    name: "JIT Access",
    short_name: "JIT Access",
    description: "Just-in-time privilege elevation: decide requests and manage policies, online or offline.",
    start_url: "/requests",
    scope: "/",
    display: "standalone",
    orientation: "any",
    theme_color: "#4f46e5",
    background_color: "#fafafa",
    categories: ["business", "productivity", "utilities"],
    icons: [
      { src: "/icons/icon-192.png", sizes: "192x192", type: "image/png", purpose: "any" },
      { src: "/icons/icon-512.png", sizes: "512x512", type: "image/png", purpose: "any" },
      { src: "/icons/icon-maskable-512.png", sizes: "512x512", type: "image/png", purpose: "maskable" },
    ],
  };
}
