"use client";
// The frame of every signed-in screen: navigation, who is signed in, and sign-out. Sends signed-out people to /login.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { usePathname, useRouter } from "next/navigation";
import { createContext, useContext, useEffect, useState, type ReactNode } from "react";
import type { ConsoleUser } from "../../core/console-api";
import { ROLE_LABELS } from "../../core/roles";
import { rememberUser, rememberedUser, forgetUser } from "../_lib/db/session-cache";
import { SyncProvider, wipeLocalStore } from "../_lib/db/sync-provider";
import { errorCode, errorMessage } from "../_lib/errors";
import { useTRPC } from "../_lib/trpc";
import { Logo } from "./logo";
import { SyncStatus } from "./sync-status";
import { Alert, Button, cx, Spinner } from "./ui";

const NAV = [
  { href: "/requests", label: "Requests" },
  { href: "/policies", label: "Policies" },
  { href: "/computers", label: "Computers" },
  { href: "/allowlist", label: "Allowlist" },
  { href: "/events", label: "Events" },
  { href: "/settings", label: "Settings" },
] as const;

const UserContext = createContext<ConsoleUser | null>(null);

/** The signed-in console user; only inside the console shell. */
export function useConsoleUser(): ConsoleUser {
  const user = useContext(UserContext);
  if (!user) throw new Error("useConsoleUser outside the console shell");
  return user;
}

export function ConsoleShell({ children }: { children: ReactNode }) {
  const trpc = useTRPC();
  const router = useRouter();
  const pathname = usePathname();
  const queryClient = useQueryClient();
  const status = useQuery(trpc.auth.status.queryOptions());
  const [menuOpen, setMenuOpen] = useState(false);

  const logout = useMutation(
    trpc.auth.logout.mutationOptions({
      onSettled: async () => {
        queryClient.clear();
        // Sign-out wipes this person's local store and forgets them on this device.
        const who = status.data?.user ?? offlineUser;
        forgetUser();
        if (who) await wipeLocalStore(who.id);
        router.replace("/login");
      },
    }),
  );

  useEffect(() => {
    if (!status.data) return;
    if (status.data.needsOwner) router.replace("/setup");
    else if (!status.data.user && !logout.isPending) router.replace("/login");
  }, [status.data, router, logout.isPending]);

  // A query refused as UNAUTHORIZED means the session ended (expired, signed out elsewhere): ask again who we are.
  useEffect(() => {
    return queryClient.getQueryCache().subscribe((event) => {
      if (event.type === "updated" && event.action.type === "error" && errorCode(event.action.error) === "UNAUTHORIZED") {
        void queryClient.invalidateQueries({ queryKey: trpc.auth.status.queryKey() });
      }
    });
  }, [queryClient, trpc]);

  useEffect(() => setMenuOpen(false), [pathname]);

  // Without a network the server cannot say who is signed in: the person last signed in on this device keeps
  // their console and local store (the server checks the session again on every sync).
  const [offlineUser, setOfflineUser] = useState<ConsoleUser | null>(null);
  const unreachable = !status.data && (status.fetchStatus === "paused" || (status.isError && errorCode(status.error) !== "UNAUTHORIZED"));
  useEffect(() => {
    if (status.data?.user) rememberUser(status.data.user);
    setOfflineUser(unreachable ? rememberedUser() : null);
  }, [status.data, unreachable]);

  const user = status.data?.user ?? offlineUser;
  if (!user) {
    return (
      <main id="main" className="mx-auto flex min-h-dvh max-w-sm flex-col justify-center px-4">
        {status.isError ? (
          <div className="space-y-4">
            <Alert title="The console could not reach the server">{errorMessage(status.error)}</Alert>
            <Button onClick={() => void status.refetch()}>Try again</Button>
          </div>
        ) : (
          <Spinner label="Checking your session…" />
        )}
      </main>
    );
  }

  const nav = (
    <ul className="flex flex-col gap-1">
      {NAV.map((item) => {
        const active = pathname === item.href || pathname.startsWith(`${item.href}/`);
        return (
          <li key={item.href}>
            <Link
              href={item.href}
              aria-current={active ? "page" : undefined}
              className={cx(
                "flex min-h-11 items-center rounded-lg px-3 text-sm font-medium transition-colors",
                active ? "bg-indigo-50 text-indigo-700" : "text-zinc-700 hover:bg-zinc-100 hover:text-zinc-900",
              )}
            >
              {item.label}
            </Link>
          </li>
        );
      })}
    </ul>
  );

  const account = (
    <div className="space-y-3">
      <div className="min-w-0">
        <p className="truncate text-sm font-medium text-zinc-900" title={user.email}>
          {user.email}
        </p>
        <p className="text-xs text-zinc-500">{ROLE_LABELS[user.role]}</p>
      </div>
      <Button variant="secondary" className="w-full" onClick={() => logout.mutate()} disabled={logout.isPending}>
        Sign out
      </Button>
    </div>
  );

  return (
    <UserContext.Provider value={user}>
      <SyncProvider user={user}>
      <div className="min-h-dvh lg:flex">
        {/* Wide screens: a sidebar. */}
        <aside className="sticky top-0 hidden h-dvh w-60 shrink-0 flex-col overflow-y-auto border-r border-zinc-200 bg-white px-4 py-5 lg:flex">
          <Link href="/requests" className="mb-6 inline-flex min-h-11 items-center px-2">
            <Logo />
          </Link>
          <nav aria-label="Main" className="flex-1">
            {nav}
          </nav>
          <div className="mb-3">
            <SyncStatus />
          </div>
          <div className="border-t border-zinc-200 pt-4">{account}</div>
        </aside>

        {/* Phones and tablets: a top bar with a menu. */}
        <header className="sticky top-0 z-20 border-b border-zinc-200 bg-white/95 backdrop-blur lg:hidden">
          <div className="flex h-14 items-center justify-between px-4">
            <Link href="/requests" className="inline-flex min-h-11 items-center">
              <Logo />
            </Link>
            <div className="ml-auto mr-1 min-w-0">
              <SyncStatus compact />
            </div>
            <Button variant="ghost" aria-expanded={menuOpen} aria-controls="mobile-menu" onClick={() => setMenuOpen((o) => !o)} className="-mr-2">
              <svg viewBox="0 0 20 20" className="size-5" aria-hidden="true" fill="currentColor">
                {menuOpen ? (
                  <path d="M5.3 4.3a1 1 0 0 1 1.4 0L10 7.6l3.3-3.3a1 1 0 1 1 1.4 1.4L11.4 9l3.3 3.3a1 1 0 0 1-1.4 1.4L10 10.4l-3.3 3.3a1 1 0 0 1-1.4-1.4L8.6 9 5.3 5.7a1 1 0 0 1 0-1.4z" />
                ) : (
                  <path d="M3 5h14a1 1 0 1 0 0-2H3a1 1 0 0 0 0 2zm14 4H3a1 1 0 0 0 0 2h14a1 1 0 1 0 0-2zm0 6H3a1 1 0 1 0 0 2h14a1 1 0 1 0 0-2z" />
                )}
              </svg>
              Menu
            </Button>
          </div>
          {menuOpen && (
            <div id="mobile-menu" className="border-t border-zinc-200 px-4 pb-4 pt-2">
              <nav aria-label="Main">{nav}</nav>
              <div className="mt-3 border-t border-zinc-200 pt-3">{account}</div>
            </div>
          )}
        </header>

        <main id="main" className="min-w-0 flex-1 px-4 py-6 sm:px-6 lg:px-10 lg:py-10">
          <div className="mx-auto max-w-6xl">{children}</div>
        </main>
      </div>
      </SyncProvider>
    </UserContext.Provider>
  );
}
