export function Logo({ className }: { className?: string }) {
  return (
    <span className={className ?? "inline-flex items-center gap-2 font-semibold tracking-tight text-zinc-900"}>
      <svg viewBox="0 0 32 32" className="size-7" aria-hidden="true">
        <rect width="32" height="32" rx="7" fill="#4f46e5" />
        <path d="M16 6l8 3v6c0 5.2-3.4 9.5-8 11-4.6-1.5-8-5.8-8-11V9l8-3z" fill="#fff" />
        <path d="M17 10l-4 7h3l-1 5 4-7h-3l1-5z" fill="#4f46e5" />
      </svg>
      JIT Access
    </span>
  );
}
