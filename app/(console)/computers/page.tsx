import type { Metadata } from "next";
import { ComputersView } from "./computers-view";

export const metadata: Metadata = { title: "Computers" };

export default function ComputersPage() {
  return <ComputersView />;
}
