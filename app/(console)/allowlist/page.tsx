import type { Metadata } from "next";
import { ComingNext } from "../../_components/ui";

export const metadata: Metadata = { title: "Allowlist" };

export default function AllowlistPage() {
  return (
    <ComingNext
      title="Allowlist"
      description="The applications that application control allows: what All Allowed Application(s) means in a policy."
      items={[
        "List the allowed applications by rule: Vendor, Products, Verified Executable, File Hash, CLSID and Folder Path.",
        "Add and remove rules; the change reaches every computer in its next bundle.",
      ]}
    />
  );
}
