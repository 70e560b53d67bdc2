// /requests/view?id=<id>: the same page as /requests/<id>, but static, so the service worker precaches it and opens it
// offline (it redirects an offline /requests/<id> here; scripts/build-sw.mjs). The id is read in the browser.
import type { Metadata } from "next";
import { Suspense } from "react";
import { Spinner } from "../../../_components/ui";
import { RequestByQuery } from "./request-by-query";

export const metadata: Metadata = { title: "Request" };

export default function RequestViewPage() {
  return (
    <Suspense fallback={<Spinner label="Loading the request…" />}>
      <RequestByQuery />
    </Suspense>
  );
}
