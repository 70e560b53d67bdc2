"use client";
// Keeps every requests query fresh: the server's `requests.changes` stream (SSE) says which requests changed,
// and the console refetches at once. When the stream (re)connects, it refetches too, to catch what it missed.
import { useQueryClient } from "@tanstack/react-query";
import { useSubscription } from "@trpc/tanstack-react-query";
import { useCallback, useEffect, useState } from "react";
import { useTRPC } from "../../_lib/trpc";

export type LiveState = "connecting" | "live" | "offline";

export function useLiveRequests(): LiveState {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const refresh = useCallback(() => void queryClient.invalidateQueries({ queryKey: trpc.requests.pathKey() }), [queryClient, trpc]);
  const sub = useSubscription(
    trpc.requests.changes.subscriptionOptions(undefined, {
      onStarted: refresh,
      onData: refresh,
    }),
  );
  // Back from a sleeping tab or a lost network: the stream reconnects by itself; refetch to be sure.
  useEffect(() => {
    const onVisible = () => document.visibilityState === "visible" && refresh();
    document.addEventListener("visibilitychange", onVisible);
    window.addEventListener("online", refresh);
    return () => {
      document.removeEventListener("visibilitychange", onVisible);
      window.removeEventListener("online", refresh);
    };
  }, [refresh]);
  return sub.status === "pending" ? "live" : sub.status === "error" ? "offline" : "connecting";
}

/** The current time, ticking every `intervalMs`, for countdowns and "waiting 3 min". */
export function useNow(intervalMs: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const id = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(id);
  }, [intervalMs]);
  return now;
}
