// How a refused decision reads in the dialog that is still open: the server says "Declined by dana 0 s before your
// approval reached the server"; the admin who just clicked reads "Already declined by dana …".
export function refusalInDialog(message: string | null): string {
  const text = message ?? "The server refused this decision.";
  return /^(Approved|Declined|Revoked|Cancelled) by /.test(text) ? `Already ${text[0]!.toLowerCase()}${text.slice(1)}` : text;
}

/** A refusal that lost a race to someone else's decision, rather than one about role, input or limits. */
export function isLostRace(message: string): boolean {
  return /^Already /.test(message) || / before your /.test(message);
}
