import type { Metadata } from "next";
import { NewPolicyForm } from "./new-policy-form";

export const metadata: Metadata = { title: "Create → Application Elevation" };

export default function NewPolicyPage() {
  return <NewPolicyForm />;
}
