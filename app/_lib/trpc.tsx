"use client";
// The console's tRPC client: react-query hooks over one batched HTTP link to the server's /api/trpc,
// and subscriptions (live changes) over server-sent events with the browser's own EventSource.
// Auth rides on the httpOnly session cookie, so the client sends no token of its own.
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { createTRPCClient, httpBatchLink, httpSubscriptionLink, splitLink, TRPCClientError } from "@trpc/client";
import { createTRPCContext } from "@trpc/tanstack-react-query";
import { useState, type ReactNode } from "react";
import type { AppRouter } from "../../server/routers";

export const { TRPCProvider, useTRPC, useTRPCClient } = createTRPCContext<AppRouter>();

function makeQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        staleTime: 10_000,
        // A refused request (signed out, not allowed, bad input) will not succeed on a retry. Queries run in the
        // browser only (the console renders no data on the server), where navigator is always there.
        retry: (failureCount, error) => {
          if (error instanceof TRPCClientError) {
            const code = (error.data as { code?: string } | undefined)?.code;
            if (code && ["UNAUTHORIZED", "FORBIDDEN", "BAD_REQUEST", "NOT_FOUND"].includes(code)) return false;
          }
          // Offline, a retry only delays the fallback to the local store (the console opening offline).
          return failureCount < 2 && navigator.onLine;
        },
      },
    },
  });
}

const sameOrigin = (url: URL | RequestInfo, init?: RequestInit) => fetch(url, { ...init, credentials: "same-origin" });

export function TRPCReactProvider({ children }: { children: ReactNode }) {
  const [queryClient] = useState(makeQueryClient);
  const [trpcClient] = useState(() =>
    createTRPCClient<AppRouter>({
      links: [
        splitLink({
          condition: (op) => op.type === "subscription",
          true: httpSubscriptionLink({ url: "/api/trpc" }),
          // Each sync.pull on its own (a page of 1,000 documents is stored as soon as it arrives, not with the batch).
          false: splitLink({
            condition: (op) => op.path === "sync.pull",
            true: httpBatchLink({ url: "/api/trpc", maxItems: 1, fetch: sameOrigin }),
            false: httpBatchLink({ url: "/api/trpc", fetch: sameOrigin }),
          }),
        }),
      ],
    }),
  );
  return (
    <QueryClientProvider client={queryClient}>
      <TRPCProvider trpcClient={trpcClient} queryClient={queryClient}>
        {children}
      </TRPCProvider>
    </QueryClientProvider>
  );
}
