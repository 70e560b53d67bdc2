// For the tests that act as a throwaway user: can a user other than the owner reach this file (every folder
// above it searchable by others, the file readable by others)? A checkout under /root, say, cannot be run by them.
import { statSync } from "node:fs";
import { dirname, resolve } from "node:path";

export function othersCanReach(path: string): boolean {
  try {
    const file = resolve(path);
    if (!(statSync(file).mode & 0o004)) return false;
    for (let dir = dirname(file); ; dir = dirname(dir)) {
      if (!(statSync(dir).mode & 0o001)) return false;
      if (dir === dirname(dir)) return true;
    }
  } catch {
    return false;
  }
}
