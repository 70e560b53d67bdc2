"use client";
// The computer named by ?id= (see page.tsx).
import { useSearchParams } from "next/navigation";
import { ComputerDetail } from "../[id]/computer-detail";

export function ComputerByQuery() {
  const id = useSearchParams().get("id") ?? "";
  return <ComputerDetail key={id} id={id} />;
}
