"use client";
import type { ReactNode } from "react";
import { TRPCReactProvider } from "./_lib/trpc";

export function Providers({ children }: { children: ReactNode }) {
  return <TRPCReactProvider>{children}</TRPCReactProvider>;
}
