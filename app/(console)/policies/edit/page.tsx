// /policies/edit?id=<id>: the same page as /policies/<id>/edit, but static, so the service worker precaches it and
// opens it offline (it redirects an offline /policies/<id>/edit here; scripts/build-sw.mjs). The id is read in the browser.
import type { Metadata } from "next";
import { Suspense } from "react";
import { Spinner } from "../../../_components/ui";
import { EditPolicyByQuery } from "./edit-policy-by-query";

export const metadata: Metadata = { title: "Edit policy" };

export default function EditPolicyViewPage() {
  return (
    <Suspense fallback={<Spinner label="Loading the policy…" />}>
      <EditPolicyByQuery />
    </Suspense>
  );
}
