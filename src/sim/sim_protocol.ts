/**
 * What the simulator's protocols (in.php/res.php, sim_legacy.ts; the createTask APIs, sim_v2.ts)
 * share with the server around them (simulator.ts): the account's tasks and keys, the dialect's
 * row, the switches of the control API and the counters; and what a protocol gives back for one
 * request, so the server can count it, fault it and record it the same way for every dialect.
 */
import type { ServerResponse } from "node:http";
import type { Clock } from "../base/clock.ts";
import type { SimAccess } from "./sim_access.ts";
import type { CapacityCode, SimDialectSpec } from "./sim_dialects.ts";
import type { SimTasks } from "./sim_tasks.ts";
import type { Unsupported } from "./sim_control.ts";

/** The counters a protocol moves (SimCounts). */
export type CountKey = "submitted" | "capacityRefusals" | "bannedRequests" | "unsupportedRefusals";

export interface SimContext {
  readonly clock: Clock;
  readonly tasks: SimTasks;
  readonly access: SimAccess;
  readonly spec: SimDialectSpec;
  count(what: CountKey): void;
  /** What a submit past the thread cap is answered now. */
  capacityCode(): CapacityCode;
  /** The methods (or types) the control API switched off now, and their code. */
  unsupported(): Unsupported;
}

/** One request as its protocol read it. */
export interface SimRequest {
  /** The endpoint role it is counted and faulted under (`in.php`, `res.php:get`, ...; `res.php:other`). */
  readonly selector: string;
  /** The key came in the URL's query string. */
  readonly keyInQuery: boolean;
  /** What `/__sim/submits` records of a submit: its form or task, without the key. */
  readonly submitted?: Record<string, string>;
  /** Answers it as the protocol does; `from` is the caller's address (bans). */
  answer(res: ServerResponse, from: string): void;
  /** Answers it with `code` in the protocol's form (a fault's `error`). */
  refuse(res: ServerResponse, code: string): void;
}

export interface SimProtocol {
  /** The request at `url`, or undefined for a path the protocol has none at (404). Never throws. */
  read(url: URL, contentType: string, body: Buffer): SimRequest | undefined;
}

/** Whether the balance is too low for a task of `kind`: at zero on CaptchaAI's plan, under the task's price per solve (the dialect's row). */
export function cannotPay(ctx: SimContext, kind: "image" | "token"): boolean {
  return ctx.spec.zeroBalance === "empty" ? ctx.tasks.balanceUsd <= 0 : ctx.tasks.balanceUsd < ctx.tasks.prices[kind];
}

/** A value kept for /__sim/submits: long ones (images) as their head and length, so 200 records never hold 200 images. */
export function recordedValue(v: string): string {
  return v.length > 4096 ? `${v.slice(0, 64)}...(${v.length} chars)` : v;
}
