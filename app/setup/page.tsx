import type { Metadata } from "next";
import { SetupForm } from "./setup-form";

export const metadata: Metadata = { title: "Create the owner account" };

export default function SetupPage() {
  return <SetupForm />;
}
