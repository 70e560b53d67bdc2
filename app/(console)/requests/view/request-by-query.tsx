"use client";
// The request named by ?id= (see page.tsx).
import { useSearchParams } from "next/navigation";
import { RequestDetail } from "../[id]/request-detail";

export function RequestByQuery() {
  const id = useSearchParams().get("id") ?? "";
  return <RequestDetail key={id} id={id} />;
}
