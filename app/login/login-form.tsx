"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useEffect, useState, type FormEvent } from "react";
import { CredentialsSchema } from "../../core/console-api";
import { AuthCard, EmailField, SubmitButton } from "../_components/auth-card";
import { Alert, Field, inputClass } from "../_components/ui";
import { errorMessage, sentence } from "../_lib/errors";
import { useTRPC } from "../_lib/trpc";

export function LoginForm() {
  const trpc = useTRPC();
  const router = useRouter();
  const queryClient = useQueryClient();
  const status = useQuery(trpc.auth.status.queryOptions());
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [fieldErrors, setFieldErrors] = useState<{ email?: string[]; password?: string[] }>({});

  useEffect(() => {
    if (status.data?.needsOwner) router.replace("/setup");
    else if (status.data?.user) router.replace("/requests");
  }, [status.data, router]);

  const login = useMutation(
    trpc.auth.login.mutationOptions({
      onSuccess: ({ user }) => {
        queryClient.setQueryData(trpc.auth.status.queryKey(), { needsOwner: false, user });
        router.replace("/requests");
      },
    }),
  );

  function submit(e: FormEvent) {
    e.preventDefault();
    const parsed = CredentialsSchema.safeParse({ email, password });
    if (!parsed.success) {
      const errs: { email?: string[]; password?: string[] } = {};
      for (const i of parsed.error.issues) {
        const key = i.path[0] === "password" ? "password" : "email";
        (errs[key] ??= []).push(i.message === "expected an email address" ? "Enter an email address, like you@example.com." : sentence(i.message));
      }
      setFieldErrors(errs);
      return;
    }
    setFieldErrors({});
    login.mutate(parsed.data);
  }

  return (
    <AuthCard
      title="Sign in"
      description="Sign in to the JIT Access console to manage policies, requests and computers."
      footer={
        status.data?.needsOwner ? (
          <>
            No account exists yet. <Link className="font-medium text-indigo-700 underline" href="/setup">Create the owner account</Link>
          </>
        ) : (
          "Ask the owner of this console for an account."
        )
      }
    >
      <form onSubmit={submit} noValidate className="space-y-5">
        <div aria-live="polite">{login.isError && <Alert title="Could not sign in">{errorMessage(login.error)}</Alert>}</div>
        <EmailField value={email} onChange={setEmail} errors={fieldErrors.email} />
        <Field id="password" label="Password" errors={fieldErrors.password}>
          {(p) => <input {...p} type="password" name="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} className={inputClass} />}
        </Field>
        <SubmitButton pending={login.isPending} label="Sign in" pendingLabel="Signing in…" />
      </form>
    </AuthCard>
  );
}
