// The frame of the signed-out screens (sign in, first owner).
import type { ReactNode } from "react";
import { Logo } from "./logo";
import { Button, Field, inputClass } from "./ui";

export function AuthCard({ title, description, children, footer }: { title: string; description?: ReactNode; children: ReactNode; footer?: ReactNode }) {
  return (
    <main id="main" className="flex min-h-dvh flex-col items-center justify-center px-4 py-10">
      <div className="w-full max-w-sm">
        <div className="mb-8 flex justify-center">
          <Logo />
        </div>
        <div className="rounded-2xl border border-zinc-200 bg-white p-6 shadow-sm sm:p-8">
          <h1 className="text-xl font-semibold tracking-tight text-zinc-900">{title}</h1>
          {description && <div className="mt-1.5 text-sm text-zinc-600">{description}</div>}
          <div className="mt-6">{children}</div>
        </div>
        {footer && <div className="mt-6 text-center text-sm text-zinc-600">{footer}</div>}
      </div>
    </main>
  );
}

/** The email field of the signed-out forms (the browser's password manager knows it as the user name). */
export function EmailField({ value, onChange, errors }: { value: string; onChange: (v: string) => void; errors?: string[] }) {
  return (
    <Field id="email" label="Email" errors={errors}>
      {(p) => <input {...p} type="email" name="email" autoComplete="username" inputMode="email" required value={value} onChange={(e) => onChange(e.target.value)} className={inputClass} />}
    </Field>
  );
}

/** The full-width submit button of a signed-out form, busy while its request runs. */
export function SubmitButton({ pending, label, pendingLabel }: { pending: boolean; label: string; pendingLabel: string }) {
  return (
    <Button type="submit" className="w-full" disabled={pending} aria-busy={pending || undefined}>
      {pending ? pendingLabel : label}
    </Button>
  );
}
