// /policies/view?id=<id>: the same page as /policies/<id>, but static, so the service worker precaches it and opens it
// offline (it redirects an offline /policies/<id> here; scripts/build-sw.mjs). The id is read in the browser.
import type { Metadata } from "next";
import { Suspense } from "react";
import { Spinner } from "../../../_components/ui";
import { PolicyByQuery } from "./policy-by-query";

export const metadata: Metadata = { title: "Policy" };

export default function PolicyViewPage() {
  return (
    <Suspense fallback={<Spinner label="Loading the policy…" />}>
      <PolicyByQuery />
    </Suspense>
  );
}
