import type { Metadata } from "next";
import { ComputerDetail } from "./computer-detail";

export const metadata: Metadata = { title: "Computer" };

export default async function ComputerPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return <ComputerDetail id={id} />;
}
