/** What the solver needs of a task journal (--state-dir), and what it gets back from one at start. */
import type { SolutionValue } from "../tasks/task_solution.ts";
import type { Task } from "../tasks/task.ts";
import type { TaskType } from "../tasks/task_catalogue.ts";
import type { TaskParams } from "../tasks/task_catalogue.ts";

/** A task found open in the journal at start. */
export interface ReplayedTask {
  id: string;
  type: TaskType;
  params: TaskParams;
  createdAt: number;
  deadlineAt: number;
  /** Set when the upstream took it: poll this id, never submit again. */
  upstreamId: string | undefined;
  /** A submit was under way at the crash and its fate is unknown. */
  uncertain: boolean;
  submissions: number;
  /** The provider its last submit went to; undefined in an older journal (the first). */
  provider?: string | undefined;
}

/** A task found ended in the journal within its retention: answered again as before the restart. */
export interface EndedTask {
  id: string;
  type: TaskType;
  status: "solved" | "failed";
  createdAt: number;
  endedAt: number;
  upstreamId: string | undefined;
  solution: SolutionValue | undefined;
  /** The provider that took it (polls and reports go there); undefined in an older journal. */
  provider?: string | undefined;
  /** What its solve cost at that provider (docs/providers.md, Budgets); undefined: nothing, or an older journal. */
  costUsd?: number | undefined;
  useragent?: string | undefined;
  error: { code: string; message: string } | undefined;
  /** Its report went upstream before the restart: a second one is a duplicate. */
  reported?: "good" | "bad" | undefined;
  /** The --client-keys-file client it belongs to (it alone may read it); undefined: the operator's. */
  client?: string | undefined;
}

/** What the solver tells the journal; src/journal/journal_records.ts describes the records. */
export interface TaskJournal {
  accepted(task: Task): Promise<void>;
  submitting(task: Task): Promise<void>;
  submitted(task: Task): void;
  unsubmitted(task: Task): void;
  ended(task: Task): void;
  /** A solved task's report went upstream (so it is not sent again after a restart). */
  reported?(task: Task): void;
}
