// How user and computer names compare: case-insensitively, with DOMAIN\user and user@domain reduced to the user.

export function normalizeUserName(name: string): string {
  let n = name.trim().toLowerCase();
  const slash = n.lastIndexOf("\\");
  if (slash >= 0) n = n.slice(slash + 1);
  const at = n.indexOf("@");
  if (at > 0) n = n.slice(0, at);
  return n;
}

export function normalizeComputerName(name: string): string {
  return name.trim().toLowerCase();
}
