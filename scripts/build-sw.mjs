#!/usr/bin/env node
// Generates the console's service worker with Workbox after `next build` (npm run build runs it).
//
// It precaches the app shell: Next's hashed static assets (<distDir>/static/** served at /_next/static/), the
// prerendered HTML of every static page (<distDir>/server/app/*.html at its URL, revision = BUILD_ID), the
// offline fallback page, the icons, the favicon and the manifest. A detail page with an id in its path
// (/requests/<id>, /policies/<id>, /computers/<id>, /policies/<id>/edit) goes to the network and, offline, is
// redirected to its static twin /<section>/view?id=<id> (/policies/edit?id=<id>), which is precached, reads the id
// in the browser and the document from the local store. Navigation to any other page that is not precached goes to
// the network and, offline, falls back to /offline, which says the page needs the network. Nothing under /api/ or /agent/ is ever cached. A new worker waits until the admin clicks "reload"
// (app/_components/service-worker.tsx sends SKIP_WAITING).
//
// Push notifications (Approve / Decline from a notification) live in public/sw-push.js, imported by the worker.
//
// Output: <distDir>/sw.js, which the custom server (server/app.ts) serves at /sw.js, so parallel builds
// (NEXT_DIST_DIR) never clobber each other; the default build (.next) also writes public/sw.js (gitignored).
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, readdirSync, readFileSync, statSync, utimesSync } from "node:fs";
import { join, dirname, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { generateSW } from "workbox-build";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const distName = process.env.NEXT_DIST_DIR || ".next";
const dist = join(root, distName);
const buildIdFile = join(dist, "BUILD_ID");
if (!existsSync(buildIdFile)) {
  console.error(`build-sw: no ${distName}/BUILD_ID: run next build first.`);
  process.exit(1);
}
const buildId = readFileSync(buildIdFile, "utf8").trim();

/** URLs the worker must never precache or answer: the API, the agent protocol, the events export. */
const NEVER = [/^\/api\//, /^\/agent\//];

// Every prerendered page: server/app/requests.html → /requests, server/app/policies/new.html → /policies/new,
// index.html → /. Next's internal pages (_not-found, _global-error) are not routes.
function prerenderedPages() {
  const appDir = join(dist, "server", "app");
  const pages = [];
  const walk = (dir) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith(".html")) {
        const rel = relative(appDir, path).split(sep).join("/").replace(/\.html$/, "");
        if (rel.split("/").some((part) => part.startsWith("_"))) continue;
        pages.push(rel === "index" ? "/" : `/${rel.replace(/\/index$/, "")}`);
      }
    }
  };
  walk(appDir);
  return pages.sort();
}

const fileRevision = (path) => createHash("md5").update(readFileSync(path)).digest("hex");
const publicFiles = ["favicon.svg", ...readdirSync(join(root, "public", "icons")).filter((f) => f.endsWith(".png")).map((f) => `icons/${f}`)];

// Web push and notification actions (public/sw-push.js), imported by the worker under a content-hashed URL: a
// change to it changes sw.js, so browsers install the new worker (the browser keeps imported scripts with the worker).
const pushScriptUrl = `/sw-push.js?v=${fileRevision(join(root, "public", "sw-push.js")).slice(0, 12)}`;

const pages = prerenderedPages();
if (!pages.includes("/offline")) {
  console.error("build-sw: the build has no prerendered /offline page (app/offline/page.tsx).");
  process.exit(1);
}
const additionalManifestEntries = [
  ...pages.map((url) => ({ url, revision: buildId })),
  { url: "/manifest.webmanifest", revision: buildId },
  ...publicFiles.map((f) => ({ url: `/${f}`, revision: fileRevision(join(root, "public", f)) })),
];
for (const e of additionalManifestEntries) {
  if (NEVER.some((re) => re.test(e.url))) throw new Error(`build-sw: refusing to precache ${e.url}`);
}

const swDest = join(dist, "sw.js");
const { count, size, warnings } = await generateSW({
  swDest,
  mode: "production",
  sourcemap: false,
  inlineWorkboxRuntime: true,
  cacheId: "jit-access",
  importScripts: [pushScriptUrl],
  globDirectory: dist,
  globPatterns: ["static/**/*.{js,css,woff2,woff,svg,png,ico,webp}"],
  globFollow: false,
  modifyURLPrefix: { "static/": "/_next/static/" },
  // Hashed file names: no cache-busting query needed.
  dontCacheBustURLsMatching: /^\/_next\/static\//,
  maximumFileSizeToCacheInBytes: 5 * 1024 * 1024,
  additionalManifestEntries,
  // /login?next=… and /requests?status=… open their precached page; the App Router's own RSC fetches
  // (/requests?_rsc=…) keep their `_rsc` and so never match a precached HTML page: they go to the network.
  ignoreURLParametersMatching: [/^(?!_rsc$).+$/],
  directoryIndex: null,
  cleanupOutdatedCaches: true,
  // The first install takes control at once; an update waits for the admin ("Update available — reload").
  clientsClaim: true,
  skipWaiting: false,
  // Pages that are not precached: network only. Offline, a detail page goes to its precached /<section>/view?id=…
  // or /policies/edit?id=… (Next's client navigation, whose RSC fetch fails offline, falls back to a full navigation
  // that lands here); any other page gets /offline. (Serialised into the worker: each function must stand alone.)
  runtimeCaching: [
    {
      urlPattern: ({ request, url, sameOrigin }) =>
        sameOrigin &&
        request.mode === "navigate" &&
        /^\/((requests|computers)\/[^/]+|policies\/[^/]+(\/edit)?)\/?$/.test(url.pathname) &&
        !/^\/[^/]+\/(view|new|edit)\/?$/.test(url.pathname),
      handler: async ({ request, url }) => {
        try {
          return await fetch(request);
        } catch {
          const [, section, id, edit] = /^\/([^/]+)\/([^/]+)(\/edit)?/.exec(url.pathname);
          return Response.redirect(`${url.origin}/${section}/${edit ? "edit" : "view"}?id=${encodeURIComponent(decodeURIComponent(id))}`, 302);
        }
      },
    },
    {
      urlPattern: ({ request, url, sameOrigin }) =>
        sameOrigin && request.mode === "navigate" && !url.pathname.startsWith("/api/") && !url.pathname.startsWith("/agent/"),
      handler: "NetworkOnly",
      options: { precacheFallback: { fallbackURL: "/offline" } },
    },
  ],
});
for (const w of warnings) console.warn(`build-sw: ${w}`);
if (distName === ".next") {
  // Keep public/'s own time: scripts/ensure-build.mjs would take a new file in it for a changed source.
  const publicDir = join(root, "public");
  const { atime, mtime } = statSync(publicDir);
  copyFileSync(swDest, join(publicDir, "sw.js"));
  utimesSync(publicDir, atime, mtime);
}
console.log(`build-sw: ${relative(root, swDest)}: ${count} files precached (${(size / 1024).toFixed(0)} kB), ${pages.length} pages, build ${buildId}`);
