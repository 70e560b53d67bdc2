"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useEffect, useState, type FormEvent } from "react";
import { SetupOwnerSchema } from "../../core/console-api";
import { AuthCard, EmailField, SubmitButton } from "../_components/auth-card";
import { Alert, Field, inputClass, Spinner } from "../_components/ui";
import { errorMessage, sentence } from "../_lib/errors";
import { useTRPC } from "../_lib/trpc";

type Errors = { email?: string[]; password?: string[]; confirm?: string[] };

export function SetupForm() {
  const trpc = useTRPC();
  const router = useRouter();
  const queryClient = useQueryClient();
  const status = useQuery(trpc.auth.status.queryOptions());
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [confirm, setConfirm] = useState("");
  const [errors, setErrors] = useState<Errors>({});

  const setup = useMutation(
    trpc.auth.setupOwner.mutationOptions({
      onSuccess: ({ user }) => {
        queryClient.setQueryData(trpc.auth.status.queryKey(), { needsOwner: false, user });
        router.replace("/requests");
      },
    }),
  );

  useEffect(() => {
    if (setup.isSuccess || setup.isPending) return;
    if (status.data?.user) router.replace("/requests");
  }, [status.data, router, setup.isSuccess, setup.isPending]);

  function submit(e: FormEvent) {
    e.preventDefault();
    const next: Errors = {};
    const parsed = SetupOwnerSchema.safeParse({ email, password });
    if (!parsed.success) {
      for (const i of parsed.error.issues) {
        if (i.path[0] === "password") (next.password ??= []).push(i.message === "a password has at least 12 characters" ? "Use at least 12 characters." : sentence(i.message));
        else (next.email ??= []).push("Enter an email address, like you@example.com.");
      }
    }
    if (confirm !== password) next.confirm = ["The two passwords differ. Type the same password twice."];
    setErrors(next);
    if (!parsed.success || next.confirm) return;
    setup.mutate(parsed.data);
  }

  if (status.isPending) return <AuthCard title="Create the owner account"><Spinner /></AuthCard>;

  if (status.data && !status.data.needsOwner && !setup.isSuccess) {
    return (
      <AuthCard title="The owner account exists" description="This console already has an owner. Sign in with your account, or ask the owner for one.">
        <Link href="/login" className="font-medium text-indigo-700 underline">
          Go to sign in
        </Link>
      </AuthCard>
    );
  }

  return (
    <AuthCard
      title="Create the owner account"
      description="Welcome to JIT Access. The owner manages the console, its policies and its users. You can add admins, approvers and auditors later."
    >
      <form onSubmit={submit} noValidate className="space-y-5">
        <div aria-live="polite">{setup.isError && <Alert title="Could not create the owner">{errorMessage(setup.error)}</Alert>}</div>
        <EmailField value={email} onChange={setEmail} errors={errors.email} />
        <Field id="password" label="Password" hint="At least 12 characters. A passphrase of a few words is easy to type and hard to guess." errors={errors.password}>
          {(p) => (
            <input {...p} type="password" name="new-password" autoComplete="new-password" required minLength={12} value={password} onChange={(e) => setPassword(e.target.value)} className={inputClass} />
          )}
        </Field>
        <Field id="confirm-password" label="Confirm password" errors={errors.confirm}>
          {(p) => <input {...p} type="password" name="confirm-password" autoComplete="new-password" required value={confirm} onChange={(e) => setConfirm(e.target.value)} className={inputClass} />}
        </Field>
        <SubmitButton pending={setup.isPending} label="Create owner account" pendingLabel="Creating…" />
      </form>
    </AuthCard>
  );
}
