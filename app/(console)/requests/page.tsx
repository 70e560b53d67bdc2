import type { Metadata } from "next";
import { RequestsView } from "./requests-view";

export const metadata: Metadata = { title: "Requests" };

export default function RequestsPage() {
  return <RequestsView />;
}
