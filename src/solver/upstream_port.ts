/** What the solver needs of the upstream: four calls returning classified outcomes, never throwing. */
import type { Outcome } from "../upstream/outcome.ts";

export type { Outcome };

export interface SolverUpstream<P> {
  submit(params: P): Promise<Outcome<string>>;
  poll(upstreamId: string): Promise<Outcome<string>>;
  balance(): Promise<Outcome<number>>;
  report(upstreamId: string, correct: boolean): Promise<Outcome<string>>;
}
