// Remembers who was signed in on this device, so the console can open without a network (the local store is
// that person's); forgotten at sign-out. Holds no secret: the session itself stays in its httpOnly cookie.
import { ConsoleUserSchema, type ConsoleUser } from "../../../core/console-api";

const KEY = "jit.console.user";

export function rememberUser(user: ConsoleUser): void {
  try {
    localStorage.setItem(KEY, JSON.stringify(user));
  } catch {
    // Private mode or a full disk: the console still works online.
  }
}

export function rememberedUser(): ConsoleUser | null {
  try {
    const raw = localStorage.getItem(KEY);
    if (!raw) return null;
    const parsed = ConsoleUserSchema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

export function forgetUser(): void {
  try {
    localStorage.removeItem(KEY);
  } catch {
    // nothing to forget
  }
}
