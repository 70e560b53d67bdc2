"use client";
// The front door: the first owner is created at /setup, people signed out sign in, everyone else goes to Requests.
import { useQuery } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useEffect } from "react";
import { Alert, Button, Spinner } from "./_components/ui";
import { errorMessage } from "./_lib/errors";
import { useTRPC } from "./_lib/trpc";

export default function Home() {
  const trpc = useTRPC();
  const router = useRouter();
  const status = useQuery(trpc.auth.status.queryOptions());

  useEffect(() => {
    if (!status.data) return;
    if (status.data.needsOwner) router.replace("/setup");
    else if (!status.data.user) router.replace("/login");
    else router.replace("/requests");
  }, [status.data, router]);

  return (
    <main id="main" className="mx-auto flex min-h-dvh max-w-sm flex-col justify-center px-4">
      {status.isError ? (
        <div className="space-y-4">
          <Alert title="The console could not reach the server">{errorMessage(status.error)}</Alert>
          <Button onClick={() => void status.refetch()}>Try again</Button>
        </div>
      ) : (
        <Spinner label="Opening the console…" />
      )}
    </main>
  );
}
