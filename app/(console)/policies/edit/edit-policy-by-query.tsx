"use client";
// The policy named by ?id=, in its edit form (see page.tsx).
import { useSearchParams } from "next/navigation";
import { EditPolicy } from "../[id]/edit/edit-policy";

export function EditPolicyByQuery() {
  const id = useSearchParams().get("id") ?? "";
  return <EditPolicy key={id} id={id} />;
}
