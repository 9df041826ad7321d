/**
 * The journal's records of gateway callbacks (docs/gateway.md: Callbacks): an
 * attempt is recorded before it is made and a settled callback says so, so after a stop or a
 * crash a callback still owed is resumed with the attempts it has left, never more.
 * src/journal/journal_records.ts keeps them in the ended task's end record.
 */

/** A gateway callback of an ended task not settled yet: resumed at start with the attempts it has left. */
export interface PendingCallback {
  id: string;
  url: string;
  format: "pingback" | "v2";
  /** Attempts made (or begun) before. */
  attempts: number;
}

export function callbackAttemptRecord(id: string, attempt: number): string {
  return JSON.stringify({ op: "callback_attempt", id, attempt });
}

export function callbackSettledRecord(id: string, outcome: string): string {
  return JSON.stringify({ op: "callback_settled", id, outcome });
}

/** A callback as an end record keeps it. */
export type RecordedCallback = { url: string; format: "pingback" | "v2"; attempts?: number };

export function isCallback(v: unknown): v is RecordedCallback {
  const c = v as Partial<RecordedCallback> | null;
  return typeof c === "object" && c !== null && typeof c.url === "string" && (c.format === "pingback" || c.format === "v2") &&
    (c.attempts === undefined || (Number.isSafeInteger(c.attempts) && c.attempts >= 0));
}
