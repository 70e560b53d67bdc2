// Small building blocks of the console's look: buttons, fields with labels and errors, badges, panels.
import Link from "next/link";
import type { ButtonHTMLAttributes, ComponentProps, ReactNode } from "react";
import type { PolicyStatus } from "../../core/policy";

export function cx(...classes: (string | false | null | undefined)[]): string {
  return classes.filter(Boolean).join(" ");
}

type Variant = "primary" | "secondary" | "danger" | "ghost";

const base =
  "inline-flex min-h-11 items-center justify-center gap-2 rounded-lg px-4 text-sm font-medium transition-colors " +
  "focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-600 disabled:cursor-not-allowed disabled:opacity-60";
const variants: Record<Variant, string> = {
  primary: "bg-indigo-600 text-white shadow-sm hover:bg-indigo-500",
  secondary: "border border-zinc-300 bg-white text-zinc-800 shadow-sm hover:bg-zinc-50",
  danger: "border border-red-200 bg-white text-red-700 shadow-sm hover:bg-red-50",
  ghost: "text-zinc-700 hover:bg-zinc-100",
};

export function buttonClass(variant: Variant = "primary", extra?: string): string {
  return cx(base, variants[variant], extra);
}

export function Button({ variant = "primary", className, type = "button", ...props }: ButtonHTMLAttributes<HTMLButtonElement> & { variant?: Variant }) {
  return <button type={type} className={buttonClass(variant, className)} {...props} />;
}

export function LinkButton({ variant = "primary", className, ...props }: ComponentProps<typeof Link> & { variant?: Variant }) {
  return <Link className={buttonClass(variant, className)} {...props} />;
}

export const inputClass =
  "block w-full min-h-11 rounded-lg border border-zinc-300 bg-white px-3 py-2 text-base text-zinc-900 shadow-sm sm:text-sm " +
  "placeholder:text-zinc-400 focus:border-indigo-500 focus:outline-2 focus:outline-indigo-500/30 " +
  "disabled:bg-zinc-100 disabled:text-zinc-500 aria-[invalid=true]:border-red-500 aria-[invalid=true]:focus:outline-red-500/30";

export type FieldControlProps = { id: string; "aria-describedby"?: string; "aria-invalid"?: true };

/** A labelled control with its help text and its errors, wired with aria-describedby and aria-invalid. */
export function Field({
  id,
  label,
  hint,
  errors,
  optional,
  className,
  children,
}: {
  id: string;
  label: ReactNode;
  hint?: ReactNode;
  errors?: readonly string[];
  optional?: boolean;
  className?: string;
  children: (control: FieldControlProps) => ReactNode;
}) {
  const hasErrors = !!errors && errors.length > 0;
  const describedBy = [hint ? `${id}-hint` : null, hasErrors ? `${id}-error` : null].filter(Boolean).join(" ");
  return (
    <div className={cx("space-y-1.5", className)}>
      <label htmlFor={id} className="block text-sm font-medium text-zinc-800">
        {label}
        {optional && <span className="ml-1 font-normal text-zinc-500">(optional)</span>}
      </label>
      {children({ id, "aria-describedby": describedBy || undefined, "aria-invalid": hasErrors ? true : undefined })}
      {hint && (
        <p id={`${id}-hint`} className="text-sm text-zinc-500">
          {hint}
        </p>
      )}
      <FieldErrors id={`${id}-error`} errors={errors} />
    </div>
  );
}

export function FieldErrors({ id, errors }: { id: string; errors?: readonly string[] }) {
  if (!errors || errors.length === 0) return null;
  return (
    <div id={id} className="space-y-0.5 text-sm text-red-700">
      {errors.map((e) => (
        <p key={e} className="flex gap-1.5">
          <span aria-hidden="true">⚠</span>
          <span>{e}</span>
        </p>
      ))}
    </div>
  );
}

export function Alert({ tone = "error", title, children }: { tone?: "error" | "info" | "success"; title?: ReactNode; children?: ReactNode }) {
  const tones = {
    error: "border-red-200 bg-red-50 text-red-800",
    info: "border-indigo-200 bg-indigo-50 text-indigo-900",
    success: "border-emerald-200 bg-emerald-50 text-emerald-900",
  };
  return (
    <div role={tone === "error" ? "alert" : "status"} className={cx("rounded-lg border px-4 py-3 text-sm", tones[tone])}>
      {title && <p className="font-semibold">{title}</p>}
      {children && <div className={title ? "mt-1" : undefined}>{children}</div>}
    </div>
  );
}

const STATUS_STYLES: Record<PolicyStatus, string> = {
  draft: "bg-zinc-100 text-zinc-700 ring-zinc-300",
  deployed: "bg-emerald-50 text-emerald-800 ring-emerald-300",
  disabled: "bg-amber-50 text-amber-800 ring-amber-300",
  expired: "bg-zinc-100 text-zinc-500 ring-zinc-300",
};
const STATUS_LABELS: Record<PolicyStatus, string> = { draft: "Draft", deployed: "Deployed", disabled: "Disabled", expired: "Expired" };

export function StatusBadge({ status }: { status: PolicyStatus }) {
  return <Badge className={STATUS_STYLES[status]}>{STATUS_LABELS[status]}</Badge>;
}

export function Badge({ className, children }: { className?: string; children: ReactNode }) {
  return (
    <span className={cx("inline-flex items-center whitespace-nowrap rounded-full px-2.5 py-0.5 text-xs font-medium ring-1 ring-inset", className ?? "bg-zinc-100 text-zinc-700 ring-zinc-300")}>
      {children}
    </span>
  );
}

export function PageHeader({ title, description, actions }: { title: ReactNode; description?: ReactNode; actions?: ReactNode }) {
  return (
    <div className="mb-6 flex flex-col gap-4 sm:flex-row sm:items-end sm:justify-between">
      <div className="min-w-0">
        <h1 className="text-2xl font-semibold tracking-tight text-zinc-900">{title}</h1>
        {description && <p className="mt-1 max-w-2xl text-sm text-zinc-600">{description}</p>}
      </div>
      {actions && <div className="flex shrink-0 flex-wrap gap-2">{actions}</div>}
    </div>
  );
}

export function Panel({ className, children }: { className?: string; children: ReactNode }) {
  return <div className={cx("rounded-xl border border-zinc-200 bg-white shadow-sm", className)}>{children}</div>;
}

export function EmptyState({ title, children, action }: { title: ReactNode; children?: ReactNode; action?: ReactNode }) {
  return (
    <Panel className="px-6 py-12 text-center">
      <h2 className="text-base font-semibold text-zinc-900">{title}</h2>
      {children && <div className="mx-auto mt-2 max-w-md text-sm text-zinc-600">{children}</div>}
      {action && <div className="mt-6 flex justify-center">{action}</div>}
    </Panel>
  );
}

export function Spinner({ label = "Loading…" }: { label?: string }) {
  return (
    <div role="status" className="flex items-center gap-3 py-10 text-sm text-zinc-500">
      <span className="size-4 animate-spin rounded-full border-2 border-zinc-300 border-t-indigo-600" aria-hidden="true" />
      {label}
    </div>
  );
}

/**
 * Tables that become stacked cards on phones (one DOM for every width): each cell shows its column name
 * from `data-label` before its value below the `sm` breakpoint.
 */
export const stackTable = {
  table: "min-w-full text-sm max-sm:block",
  thead: "bg-zinc-50 text-left text-xs font-semibold uppercase tracking-wide text-zinc-500 max-sm:sr-only",
  tbody: "divide-y divide-zinc-100 bg-white max-sm:block",
  tr: "align-top max-sm:block max-sm:px-4 max-sm:py-3",
  cell:
    "px-4 py-3 text-left lg:px-3 max-sm:flex max-sm:items-baseline max-sm:justify-between max-sm:gap-4 max-sm:px-0 max-sm:py-1 max-sm:text-right " +
    "max-sm:before:shrink-0 max-sm:before:text-left max-sm:before:text-xs max-sm:before:font-medium max-sm:before:uppercase max-sm:before:tracking-wide max-sm:before:text-zinc-500 max-sm:before:content-[attr(data-label)]",
};

export function PlusIcon() {
  return (
    <svg viewBox="0 0 20 20" fill="currentColor" className="size-4" aria-hidden="true">
      <path d="M10 3a1 1 0 0 1 1 1v5h5a1 1 0 1 1 0 2h-5v5a1 1 0 1 1-2 0v-5H4a1 1 0 1 1 0-2h5V4a1 1 0 0 1 1-1z" />
    </svg>
  );
}

/** A screen that is planned but not built yet: what it will hold, so the link is never a dead end. */
export function ComingNext({ title, description, items }: { title: string; description: string; items: string[] }) {
  return (
    <>
      <PageHeader title={title} description={description} />
      <Panel className="p-6">
        <Badge className="bg-indigo-50 text-indigo-700 ring-indigo-200">Coming next</Badge>
        <p className="mt-3 text-sm text-zinc-700">This screen is being built. It will let you:</p>
        <ul className="mt-3 list-disc space-y-1.5 pl-5 text-sm text-zinc-700">
          {items.map((i) => (
            <li key={i}>{i}</li>
          ))}
        </ul>
      </Panel>
    </>
  );
}

/** A form section: its title and description beside (or above, on a phone) its fields. */
export function Section({ title, description, children }: { title: string; description?: string; children: ReactNode }) {
  return (
    <Panel className="p-5 sm:p-6">
      <section className="grid gap-5 md:grid-cols-[14rem_minmax(0,1fr)] md:gap-8">
        <div>
          <h2 className="text-base font-semibold text-zinc-900">
            {title}
          </h2>
          {description && <p className="mt-1 text-sm text-zinc-500">{description}</p>}
        </div>
        <div className="min-w-0 space-y-5">{children}</div>
      </section>
    </Panel>
  );
}

/** A radio choice drawn as a card, the whole card clickable. */
export function Radio({ name, id, label, description, checked, onChange }: { name: string; id: string; label: string; description?: string; checked: boolean; onChange: () => void }) {
  return (
    <label
      htmlFor={id}
      className={cx(
        "flex min-h-11 cursor-pointer items-start gap-3 rounded-lg border px-3 py-2.5 text-sm transition-colors",
        checked ? "border-indigo-500 bg-indigo-50/60 ring-1 ring-indigo-500" : "border-zinc-300 bg-white hover:bg-zinc-50",
      )}
    >
      <input id={id} type="radio" name={name} checked={checked} onChange={onChange} className="mt-0.5 size-4 shrink-0 accent-indigo-600" />
      <span>
        <span className="block font-medium text-zinc-900">{label}</span>
        {description && <span className="block text-zinc-500">{description}</span>}
      </span>
    </label>
  );
}
