"use client";
// Approve (optionally for a shorter duration, with a note), Decline (with a reason) and Revoke, each in a
// modal dialog that works with a thumb on a phone: the server's answer (e.g. "Already approved by …") shows inside.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useEffect, useId, useRef, useState, type FormEvent } from "react";
import { describeDuration } from "../../../core/duration";
import type { RequestView } from "../../../core/request";
import { useConsoleUser } from "../../_components/console-shell";
import { Alert, Button, Field, inputClass } from "../../_components/ui";
import { isLostRace, refusalInDialog } from "../../_lib/db/refusal-text";
import { useOutbox, useSync } from "../../_lib/db/sync-provider";
import { errorCode, errorMessage } from "../../_lib/errors";
import { useTRPC } from "../../_lib/trpc";
import { appTitle, grantableDurations } from "./request-format";

export type DecisionKind = "approve" | "decline" | "revoke";

const TITLES: Record<DecisionKind, string> = { approve: "Approve request", decline: "Decline request", revoke: "Revoke access" };
const MAX_TEXT = 1000;

export function DecisionDialog({ request, kind, onClose }: { request: RequestView; kind: DecisionKind; onClose: () => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const user = useConsoleUser();
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const [duration, setDuration] = useState(request.requestedDuration);
  const [text, setText] = useState("");
  const [textError, setTextError] = useState<string[] | undefined>();

  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
    return () => dialog?.close();
  }, []);

  const done = async () => {
    await queryClient.invalidateQueries({ queryKey: trpc.requests.pathKey() });
    onClose();
  };
  // A decision someone else made first (CONFLICT) still changes what the page should show.
  const refreshOnConflict = (error: unknown) => {
    if (errorCode(error) === "CONFLICT") void queryClient.invalidateQueries({ queryKey: trpc.requests.pathKey() });
  };
  const approve = useMutation(trpc.requests.approve.mutationOptions({ onSuccess: done, onError: refreshOnConflict }));
  const decline = useMutation(trpc.requests.decline.mutationOptions({ onSuccess: done, onError: refreshOnConflict }));
  const revoke = useMutation(trpc.requests.revoke.mutationOptions({ onSuccess: done, onError: refreshOnConflict }));
  const online = kind === "approve" ? approve : kind === "decline" ? decline : revoke;
  // With the local store open, a decision is an outbox entry: pushed at once when online (the dialog waits for the
  // server's answer), kept as "waiting to sync" when offline.
  const outbox = useOutbox();
  const sync = useSync();
  const [queued, setQueued] = useState<{ busy: boolean; refused: string | null }>({ busy: false, refused: null });
  const mutation = outbox.ready
    ? { isPending: queued.busy, isError: queued.refused !== null, error: queued.refused }
    : { isPending: online.isPending, isError: online.isError, error: online.error as unknown };

  async function send(input: Record<string, unknown> & { id: string }) {
    if (!outbox.ready) {
      if (kind === "approve") approve.mutate(input as Parameters<typeof approve.mutate>[0]);
      else if (kind === "decline") decline.mutate(input as Parameters<typeof decline.mutate>[0]);
      else revoke.mutate(input as Parameters<typeof revoke.mutate>[0]);
      return;
    }
    setQueued({ busy: true, refused: null });
    try {
      const outcome = await outbox.write(`request.${kind}`, input);
      if (outcome.status === "refused") {
        // Shown here, so it need not wait in the sync panel as well.
        sync.dismiss(outcome.entry.id);
        setQueued({ busy: false, refused: refusalInDialog(outcome.message) });
      } else await done(); // the request's own page reads the server directly
    } catch (err) {
      setQueued({ busy: false, refused: errorMessage(err) });
    }
  }

  function submit(e: FormEvent) {
    e.preventDefault();
    const trimmed = text.trim();
    if (kind === "approve") {
      void send({ id: request.id, ...(duration !== request.requestedDuration ? { duration } : {}), ...(trimmed ? { note: trimmed } : {}) });
    } else if (kind === "decline") {
      if (!trimmed) {
        setTextError(["Enter a reason: the user sees it on their computer."]);
        requestAnimationFrame(() => document.getElementById(`${titleId}-text`)?.focus());
        return;
      }
      void send({ id: request.id, reason: trimmed });
    } else {
      void send({ id: request.id, ...(trimmed ? { reason: trimmed } : {}) });
    }
  }
  const refusedTitle = (error: unknown) =>
    typeof error === "string" ? (isLostRace(error) ? "Someone else was first" : "Not done") : errorCode(error) === "CONFLICT" ? "Someone else was first" : "Not done";

  const already = request.approvals.length;
  const twoPerson = request.approvalsNeeded > 1;
  const mine = request.approvals.some((a) => a.userId === user.id);

  return (
    <dialog
      ref={ref}
      aria-labelledby={titleId}
      // Closed by Escape or by the browser; a stale "close" from a reopened dialog (React's dev double effects) is ignored.
      onClose={() => !ref.current?.open && onClose()}
      className="m-0 mt-auto w-full max-w-none rounded-t-2xl bg-white p-0 text-zinc-900 shadow-xl backdrop:bg-zinc-900/40 sm:m-auto sm:max-w-lg sm:rounded-2xl"
    >
      <form onSubmit={submit} noValidate className="space-y-5 p-5 sm:p-6">
        <div>
          <h2 id={titleId} className="text-lg font-semibold">
            {TITLES[kind]}
          </h2>
          <p className="mt-1 text-sm text-zinc-600">
            <span className="font-medium text-zinc-800">{request.user}</span> on <span className="font-medium text-zinc-800">{request.computer.name}</span>:{" "}
            {appTitle(request.app)}, {describeDuration(request.grantedDuration ?? request.requestedDuration)}
            {kind !== "revoke" && " asked"}.
          </p>
        </div>

        {kind === "approve" && twoPerson && (
          <Alert tone="info" title="Two-person approval">
            {mine
              ? "You have already approved this request; another person must approve it too."
              : already + 1 >= request.approvalsNeeded
                ? `Yours is the last approval needed (${already + 1} of ${request.approvalsNeeded}): access starts when you approve.`
                : `Yours will be approval ${already + 1} of ${request.approvalsNeeded}: the request stays pending until enough people approve.`}
          </Alert>
        )}

        {kind === "approve" && (
          <Field id={`${titleId}-duration`} label="Duration" hint="You may grant a shorter time than the user asked for, never a longer one.">
            {(p) => (
              <select {...p} value={duration} onChange={(e) => setDuration(e.target.value)} className={inputClass}>
                {grantableDurations(request.requestedDuration).map((d) => (
                  <option key={d} value={d}>
                    {describeDuration(d)}
                    {d === request.requestedDuration ? " (as asked)" : ""}
                  </option>
                ))}
              </select>
            )}
          </Field>
        )}

        <Field
          id={`${titleId}-text`}
          label={kind === "approve" ? "Note" : "Reason"}
          optional={kind !== "decline"}
          hint={kind === "approve" ? "Shown to the user and kept on the audit trail." : kind === "decline" ? "Shown to the user and kept on the audit trail." : "Kept on the audit trail."}
          errors={textError}
        >
          {(p) => (
            <textarea
              {...p}
              rows={3}
              maxLength={MAX_TEXT}
              value={text}
              onChange={(e) => {
                setText(e.target.value);
                setTextError(undefined);
              }}
              className={inputClass}
            />
          )}
        </Field>

        <div aria-live="polite" className="empty:hidden">
          {mutation.isError && (
            <Alert title={refusedTitle(mutation.error)}>{typeof mutation.error === "string" ? mutation.error : errorMessage(mutation.error)}</Alert>
          )}
        </div>

        <div className="flex flex-col-reverse gap-3 sm:flex-row sm:justify-end">
          <Button variant="secondary" onClick={onClose}>
            Cancel
          </Button>
          <Button
            type="submit"
            variant={kind === "approve" ? "primary" : "danger"}
            disabled={mutation.isPending || (kind === "approve" && mine)}
            aria-busy={mutation.isPending || undefined}
          >
            {kind === "approve" ? "Approve" : kind === "decline" ? "Decline" : "Revoke"}
          </Button>
        </div>
      </form>
    </dialog>
  );
}
