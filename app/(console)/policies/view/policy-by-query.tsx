"use client";
// The policy named by ?id= (see page.tsx).
import { useSearchParams } from "next/navigation";
import { PolicyDetail } from "../[id]/policy-detail";

export function PolicyByQuery() {
  const id = useSearchParams().get("id") ?? "";
  return <PolicyDetail key={id} id={id} />;
}
