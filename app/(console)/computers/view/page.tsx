// /computers/view?id=<id>: the same page as /computers/<id>, but static, so the service worker precaches it and opens it
// offline (it redirects an offline /computers/<id> here; scripts/build-sw.mjs). The id is read in the browser.
import type { Metadata } from "next";
import { Suspense } from "react";
import { Spinner } from "../../../_components/ui";
import { ComputerByQuery } from "./computer-by-query";

export const metadata: Metadata = { title: "Computer" };

export default function ComputerViewPage() {
  return (
    <Suspense fallback={<Spinner label="Loading the computer…" />}>
      <ComputerByQuery />
    </Suspense>
  );
}
