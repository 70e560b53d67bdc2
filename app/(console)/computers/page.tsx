import type { Metadata } from "next";
import { TestAccess } from "../../_components/test-access";
import { ComputersView } from "./computers-view";

export const metadata: Metadata = { title: "Computers" };

export default function ComputersPage() {
  return (
    <>
      <ComputersView />
      <div className="mt-8">
        <TestAccess />
      </div>
    </>
  );
}
