/** The upstream's endpoints and the outcome kinds of a call, named once for the client, the simulator, logs and metric labels. */

/** in.php takes tasks; res.php answers by `action` (get, getbalance, reportgood/reportbad). */
export const ENDPOINTS = ["in.php", "res.php:get", "res.php:getbalance", "res.php:report"] as const;
export type Endpoint = (typeof ENDPOINTS)[number];

export const SUBMIT = "in.php" satisfies Endpoint;
export const POLL = "res.php:get" satisfies Endpoint;
export const BALANCE = "res.php:getbalance" satisfies Endpoint;
export const REPORT = "res.php:report" satisfies Endpoint;

/** Every class an answer falls in (docs/upstream.md); a metric label's closed set. */
export const OUTCOME_KINDS = ["ok", "not_ready", "fatal_account", "back_off", "transient", "task_failed"] as const;
export type OutcomeKind = (typeof OUTCOME_KINDS)[number];
