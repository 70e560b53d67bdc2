import type { Metadata } from "next";
import { AllowlistView } from "./allowlist-view";

export const metadata: Metadata = { title: "Allowlist" };

export default function AllowlistPage() {
  return <AllowlistView />;
}
