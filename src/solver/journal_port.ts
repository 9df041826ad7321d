/** What the solver needs of a task journal (--state-dir), and what it gets back from one at start. */
import type { Task, TaskType } from "../tasks/task.ts";

/** A task found open in the journal at start. */
export interface ReplayedTask<P> {
  id: string;
  type: TaskType;
  params: P;
  createdAt: number;
  deadlineAt: number;
  /** Set when the upstream took it: poll this id, never submit again. */
  upstreamId: string | undefined;
  /** A submit was under way at the crash and its fate is unknown. */
  uncertain: boolean;
  submissions: number;
}

/** What the solver tells the journal; src/journal/journal.ts describes the records. */
export interface TaskJournal<P> {
  accepted(task: Task<P>): Promise<void>;
  submitting(task: Task<P>): Promise<void>;
  submitted(task: Task<P>): void;
  unsubmitted(task: Task<P>): void;
  ended(task: Task<P>): void;
}
