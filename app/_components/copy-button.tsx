"use client";
import { useState } from "react";
import { Button } from "./ui";

/** Copies text to the clipboard and says so; where the clipboard is refused (plain http), says how to copy by hand. */
export function CopyButton({ text, label = "Copy" }: { text: string; label?: string }) {
  const [state, setState] = useState<"idle" | "copied" | "failed">("idle");
  async function copy() {
    try {
      await navigator.clipboard.writeText(text);
      setState("copied");
    } catch {
      setState("failed");
    }
    setTimeout(() => setState("idle"), 2500);
  }
  return (
    <span className="inline-flex items-center gap-2">
      <span role="status" className="text-xs text-zinc-500">
        {state === "copied" ? "Copied" : state === "failed" ? "Select the text and copy it" : ""}
      </span>
      <Button variant="secondary" onClick={() => void copy()}>
        {label}
      </Button>
    </span>
  );
}
