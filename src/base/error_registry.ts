/**
 * Every code the worker speaks, registered once, as Node's lib/internal/errors.js registers its own:
 * the worker's errors (ERR_*), the codes a task fails with, the upstream call outcomes the transport
 * names, and the codes of the 2captcha protocol that the upstream answers and the gateway speaks,
 * with the JSON APIs' own (anti-captcha, CapSolver, CapMonster Cloud, 2captcha's API v2) beside them.
 * Each row says what the code means, whom it is charged to, and how each API renders it: the task
 * API's HTTP form (status, title, headers as data), and what a 2captcha client reads (the legacy
 * string; API v2's errorId and, where it differs, its spelling). Data only: the edges render it.
 */

/** Whom a failure is charged to: the worker's health, the client's input, or nobody (a shutdown, an operator's act). */
export type Blame = "worker" | "client" | "nobody";

/**
 * What an upstream answer carrying a protocol code does (the 2captcha API's error tables, CaptchaAI's
 * error page). `unsupported`: the upstream does not take this task type (now); the task fails,
 * charged to nobody, and new tasks of the type are refused at intake for a while.
 */
export type UpstreamClass = "fatal_account" | "back_off" | "task_failed" | "transient" | "unsupported";

/** The task API's HTTP form of a worker error: status, title (RFC 9110 reason phrase) and the headers it needs. */
export interface HttpForm {
  status: number;
  title: string;
  /** `Retry-After` seconds (RFC 9110 §10.2.3); "data": the error's `retryAfterS`. */
  retryAfterS?: number | "data";
  /** `Connection: close`: the request body is not read to its end. */
  close?: true;
  /** `Allow` from the error's data (405). */
  allow?: true;
  /** `WWW-Authenticate: Bearer` (RFC 6750 §3). */
  bearerChallenge?: true;
}

const INTERNAL: HttpForm = { status: 500, title: "Internal Server Error" };
const UNAVAILABLE: HttpForm = { status: 503, title: "Service Unavailable", retryAfterS: 10 };
const TOO_MANY: HttpForm = { status: 429, title: "Too Many Requests", retryAfterS: 5 };

/** A worker error: `template` fills `{name}` from the error's data (undefined: each thrower says what failed). */
interface WorkerRow { readonly family: "worker"; readonly template: string | undefined; readonly blame: Blame; readonly http: HttpForm; readonly gateway: ProtocolCode }
/** A code a task can fail with that is the worker's own (not an upstream answer). `relayed`: only a forwarded read answers it, never a task this node holds. */
interface TaskRow { readonly family: "task"; readonly meaning: string; readonly blame: Blame; readonly gateway: ProtocolCode; readonly relayed?: true }
/** An upstream call that ended without a protocol answer. `delivered`: whether the request may have reached it. */
interface TransportRow { readonly family: "transport"; readonly meaning: string; readonly delivered: "no" | "maybe" }
/**
 * A 2captcha-protocol code. `errorId`: API v2's number (2captcha's API v2 error table); `v2`: its
 * spelling there when it differs; `upstream`: what the worker does when CaptchaAI answers it;
 * `task`: a task that failed with it reads so to a 2captcha client (default ERROR_CAPTCHA_UNSOLVABLE).
 */
interface ProtocolRow {
  readonly family: "protocol";
  readonly meaning: string;
  readonly blame: Blame;
  readonly errorId: number;
  readonly v2?: string;
  readonly upstream?: UpstreamClass;
  readonly task?: "as_is";
}

const w = (template: string | undefined, http: HttpForm, gateway: ProtocolCode, blame: Blame = http.status < 500 ? "client" : "worker"): WorkerRow =>
  ({ family: "worker", template, blame, http, gateway });
const t = (meaning: string, blame: Blame, gateway: ProtocolCode = "ERROR_CAPTCHA_UNSOLVABLE"): TaskRow => ({ family: "task", meaning, blame, gateway });
const x = (meaning: string, delivered: "no" | "maybe"): TransportRow => ({ family: "transport", meaning, delivered });
const p = (errorId: number, meaning: string, blame: Blame, more: Partial<Pick<ProtocolRow, "v2" | "upstream" | "task">> = {}): ProtocolRow =>
  ({ family: "protocol", meaning, blame, errorId, ...more });

const FATAL = { upstream: "fatal_account" } as const;
const BACK_OFF = { upstream: "back_off" } as const;
const FAILS = { upstream: "task_failed" } as const;
const TRANSIENT = { upstream: "transient" } as const;
/**
 * The task's own proxy failed: a failed task reads so to a 2captcha client too (2captcha's res.php
 * answers ERROR_PROXY_CONNECTION_FAILED, its in.php ERROR_BAD_PROXY, anti-captcha's getTaskResult
 * its ERROR_PROXY_* codes), so the client can change the proxy rather than retry through it.
 */
const PROXY_FAILS = { upstream: "task_failed", task: "as_is" } as const;
/** The task's type is not taken: a failed task reads so to a 2captcha client too. */
const UNSUPPORTED = { upstream: "unsupported", task: "as_is" } as const;

/** The protocol's codes: what the upstream answers and what the gateway answers its clients. */
const PROTOCOL = {
  // The key or the caller's IP is refused: nothing works until an operator acts.
  ERROR_WRONG_USER_KEY: p(1, "The key is malformed.", "nobody", FATAL),
  ERROR_KEY_DOES_NOT_EXIST: p(1, "The client key does not exist.", "nobody", FATAL),
  ERROR_IP_NOT_ALLOWED: p(1, "Requests from this IP address are not allowed.", "nobody", FATAL),
  ERROR_IP_ADDRES: p(1, "Requests from this IP address are not allowed.", "nobody", FATAL),
  IP_BANNED: p(1, "The IP address is banned after repeated bad keys.", "nobody", FATAL),
  ERROR_IP_BANNED: p(1, "The IP address is banned.", "nobody", FATAL),
  ERROR_ACCOUNT_SUSPENDED: p(1, "The account is suspended.", "nobody", FATAL),
  ERROR_IP_BLOCKED: p(21, "The IP address is blocked for improper use of the API (anti-captcha, 2captcha API v2).", "nobody", FATAL),
  ERROR_KEY_DENIED_ACCESS: p(1, "The client key is wrong (CapSolver, with HTTP 401).", "nobody", FATAL),
  // Capacity or money: submissions pause, tasks stay queued.
  ERROR_NO_SLOT_AVAILABLE: p(2, "No slot available: the worker is not ready or its queue is full; retry later.", "nobody", BACK_OFF),
  ERROR_ZERO_BALANCE: p(10, "The balance is zero (CaptchaAI: or no free threads).", "nobody", BACK_OFF),
  MAX_USER_TURN: p(2, "Too many requests; wait before sending more.", "nobody", BACK_OFF),
  ERROR_TOO_MUCH_REQUESTS: p(2, "Too many requests; wait before sending more.", "nobody", BACK_OFF),
  "ERROR: 1001": p(2, "Too many no-slot answers; blocked for a while.", "nobody", BACK_OFF),
  "ERROR: 1002": p(2, "Too many zero-balance answers; blocked for a while.", "nobody", BACK_OFF),
  "ERROR: 1003": p(2, "Too many no-slot answers; blocked for a while.", "nobody", BACK_OFF),
  "ERROR: 1004": p(2, "The IP address is blocked for a while after bad keys.", "nobody", BACK_OFF),
  "ERROR: 1005": p(2, "Too many result requests; blocked for a while.", "nobody", BACK_OFF),
  TOO_MANY_BAD_IMAGES: p(2, "Too many images the service could not read; blocked for a while.", "nobody", BACK_OFF),
  ERROR_RATE_LIMIT: p(2, "Over the service package's request rate (CapSolver).", "nobody", BACK_OFF),
  ERROR_SETTLEMENT_FAILED: p(10, "The task could not be charged; check the balance (CapSolver).", "nobody", BACK_OFF),
  // The client's input: the task fails, the worker's health is not blamed.
  ERROR_ZERO_CAPTCHA_FILESIZE: p(3, "The image is empty or under the size limit (100 bytes).", "client", FAILS),
  ERROR_EMPTY_CAPTCHA: p(3, "The captcha sent was empty.", "client", FAILS),
  ERROR_TOO_BIG_CAPTCHA_FILESIZE: p(4, "The image is over the size limit.", "client", FAILS),
  ERROR_WRONG_FILE_EXTENSION: p(15, "The image's file type is not one the service takes.", "client", FAILS),
  ERROR_IMAGE_TYPE_NOT_SUPPORTED: p(15, "The image is not valid base64 or not an image.", "client", FAILS),
  ERROR_UPLOAD: p(15, "The image upload could not be read.", "client", FAILS),
  ERROR_CAPTCHAIMAGE_BLOCKED: p(15, "The image is blocked by the service.", "client", FAILS),
  ERROR_PAGEURL: p(110, "The pageurl is missing or malformed.", "client", { ...FAILS, v2: "ERROR_BAD_PARAMETERS" }),
  ERROR_GOOGLEKEY: p(110, "The googlekey (sitekey) is missing or malformed.", "client", { ...FAILS, v2: "ERROR_RECAPTCHA_INVALID_SITEKEY" }),
  ERROR_WRONG_GOOGLEKEY: p(110, "The googlekey (sitekey) is wrong.", "client", FAILS),
  ERROR_SITEKEY: p(110, "The sitekey is missing or malformed.", "client", FAILS),
  ERROR_BAD_TOKEN_OR_PAGEURL: p(110, "The sitekey and pageurl do not match.", "client", FAILS),
  ERROR_BAD_PARAMETERS: p(110, "A parameter is missing or malformed.", "client", FAILS),
  ERROR_BAD_PROXY: p(110, "The proxy is malformed or refused.", "client", PROXY_FAILS),
  ERROR_PROXY_FORMAT: p(110, "The proxy is malformed.", "client", PROXY_FAILS),
  ERROR_PROXY_CONNECTION_FAILED: p(110, "The proxy could not be reached.", "client", PROXY_FAILS),
  ERROR_TOKEN_EXPIRED: p(110, "The challenge expired before it was solved.", "client", FAILS),
  ERROR_DOMAIN_NOT_ALLOWED: p(110, "The page's domain is not allowed.", "client", FAILS),
  // The JSON APIs' own (anti-captcha's error list, 2captcha's API v2 error codes, CapSolver's error page).
  ERROR_INVALID_TASK_DATA: p(110, "The task's data is invalid; the description says which (CapSolver).", "client", FAILS),
  ERROR_EMPTY_COMMENT: p(20, "The task needs a comment (its instructions) (anti-captcha).", "client", FAILS),
  ERROR_BAD_IMGINSTRUCTIONS: p(115, "The instructions image is unsupported, corrupt or over the limit (2captcha API v2).", "client", FAILS),
  ERROR_INCORRECT_SESSION_DATA: p(24, "Values the task needs to emulate the visitor are missing (anti-captcha).", "client", FAILS),
  ERROR_RECAPTCHA_INVALID_SITEKEY: p(31, "The sitekey is missing or malformed.", "client", FAILS),
  ERROR_RECAPTCHA_INVALID_DOMAIN: p(32, "reCAPTCHA says the domain is not the sitekey's (anti-captcha).", "client", FAILS),
  ERROR_RECAPTCHA_OLD_BROWSER: p(33, "reCAPTCHA refused the task's user agent as too old (anti-captcha).", "client", FAILS),
  ERROR_UNKNOWN_QUESTION: p(110, "The classification question is not one the service knows (CapSolver).", "client", FAILS),
  // The task's proxy, the client's own (anti-captcha's proxy codes; CapSolver's ERROR_PROXY_BANNED).
  ERROR_PROXY_CONNECT_REFUSED: p(25, "The task's proxy refused the connection.", "client", PROXY_FAILS),
  ERROR_PROXY_CONNECT_TIMEOUT: p(26, "The task's proxy did not accept a connection in time.", "client", PROXY_FAILS),
  ERROR_PROXY_READ_TIMEOUT: p(27, "The task's proxy stopped answering.", "client", PROXY_FAILS),
  ERROR_PROXY_BANNED: p(28, "The task's proxy address is banned by the target site.", "client", PROXY_FAILS),
  ERROR_PROXY_TRANSPARENT: p(29, "The task's proxy is transparent: it shows the service's own address.", "client", PROXY_FAILS),
  ERROR_PROXY_HAS_NO_IMAGE_SUPPORT: p(35, "The task's proxy does not pass Google's images.", "client", PROXY_FAILS),
  ERROR_PROXY_INCOMPATIBLE_HTTP_VERSION: p(36, "The task's proxy does not take long requests or SSL.", "client", PROXY_FAILS),
  ERROR_PROXY_NOT_AUTHORISED: p(49, "The task's proxy refused its login and password.", "client", PROXY_FAILS),
  // A task the upstream could not do, or a protocol slip of the worker's own.
  ERROR_CAPTCHA_UNSOLVABLE: p(12, "The captcha could not be solved.", "worker", { ...FAILS, task: "as_is" }),
  ERROR_BAD_DUPLICATES: p(13, "Not enough matching answers.", "worker", { ...FAILS, task: "as_is" }),
  ERROR_EMPTY_METHOD: p(14, "The method is missing.", "worker", FAILS),
  ERROR_EMPTY_ACTION: p(110, "The action is missing.", "worker", FAILS),
  ERROR_WRONG_ID_FORMAT: p(16, "The id must be digits only.", "worker", { ...FAILS, v2: "ERROR_NO_SUCH_CAPCHA_ID" }),
  ERROR_WRONG_CAPTCHA_ID: p(16, "No such task id.", "worker", { ...FAILS, v2: "ERROR_NO_SUCH_CAPCHA_ID" }),
  // API v2's spelling; from the upstream, a poll of an id it forgot (expired, or never recorded).
  ERROR_NO_SUCH_CAPCHA_ID: p(16, "No such task id.", "worker", FAILS),
  ERROR_DUPLICATE_REPORT: p(110, "The task was already reported.", "worker", FAILS),
  ERROR_REPORT_NOT_RECORDED: p(110, "The report could not be recorded.", "worker", FAILS),
  WRONG_CAPTCHA_ID: p(16, "No such task id (CapMonster Cloud).", "worker", FAILS),
  ERROR_TASKID_INVALID: p(16, "No such task id, or it expired (CapSolver).", "worker", FAILS),
  ERROR_TASK_TIMEOUT: p(12, "The service did not solve the task within its 120 s (CapSolver).", "worker", FAILS),
  ERROR_RECAPTCHA_TIMEOUT: p(30, "reCAPTCHA timed out at the service: a slow proxy or Google (anti-captcha).", "worker", FAILS),
  ERROR_INVISIBLE_RECAPTCHA: p(51, "The service tried an invisible reCAPTCHA as a visible one; it learns (anti-captcha).", "worker", FAILS),
  ERROR_FAILED_LOADING_WIDGET: p(52, "The service's worker could not load the widget (anti-captcha).", "worker", FAILS),
  ERROR_BAD_REQUEST: p(110, "The service could not take the request (CapSolver).", "worker", FAILS),
  // The upstream's own trouble.
  ERROR_INTERNAL_SERVER_ERROR: p(2, "The service had an internal error.", "worker", TRANSIENT),
  ERROR_SERVER_ERROR: p(2, "The service had an internal error.", "worker", TRANSIENT),
  ERROR_SERVICE_UNAVALIABLE: p(2, "The service is unavailable for a while (CapSolver's spelling).", "worker", TRANSIENT),
  // The upstream does not take the task's type: nobody's fault; the type is refused at intake for a while.
  ERROR_METHOD_CALL: p(23, "The service does not serve this method (any more).", "nobody", { ...UNSUPPORTED, v2: "ERROR_TASK_NOT_SUPPORTED" }),
  ERROR_NO_SUCH_METHOD: p(14, "No such method.", "nobody", UNSUPPORTED),
  ERROR_TASK_NOT_SUPPORTED: p(23, "This task type is not supported.", "nobody", UNSUPPORTED),
  ERROR_TASK_TYPE_DEPRECATED: p(23, "This task type is no longer supported.", "nobody", UNSUPPORTED),
  // What only the gateway answers.
  ERROR_TASK_ABSENT: p(22, "The task is missing.", "client"),
  ERROR_CALLBACK_NOT_ALLOWED: p(110, "Callbacks are allowed only to hosts the operator named (--callback-allow).", "client"),
} as const satisfies Record<string, ProtocolRow>;

export type ProtocolCode = keyof typeof PROTOCOL;

/** The worker's own errors, thrown as WorkerError; each with its HTTP form and its reading in 2captcha's terms. */
const WORKER = {
  ERR_USAGE: w(undefined, INTERNAL, "ERROR_BAD_PARAMETERS"),
  ERR_CONFIG_INVALID: w(undefined, INTERNAL, "ERROR_BAD_PARAMETERS"),
  ERR_NO_API_KEY: w(undefined, INTERNAL, "ERROR_NO_SLOT_AVAILABLE"),
  ERR_UPSTREAM_CODE: w("The upstream refused: {code}.", { status: 502, title: "Bad Gateway" }, "ERROR_REPORT_NOT_RECORDED"),
  ERR_CHECK_TIMEOUT: w("No answer within {timeoutMs}ms.", INTERNAL, "ERROR_NO_SLOT_AVAILABLE"),
  ERR_CHECK_FAILED: w(undefined, INTERNAL, "ERROR_NO_SLOT_AVAILABLE"),
  ERR_BAD_REQUEST: w(undefined, { status: 400, title: "Bad Request" }, "ERROR_BAD_PARAMETERS"),
  ERR_BODY_TOO_LARGE: w("The body is over the limit of {limitBytes} bytes.", { status: 413, title: "Content Too Large", close: true }, "ERROR_TOO_BIG_CAPTCHA_FILESIZE"),
  ERR_HEADERS_TOO_LARGE: w("The request line and headers are over the limit.", { status: 431, title: "Request Header Fields Too Large" }, "ERROR_BAD_PARAMETERS"),
  ERR_UNSUPPORTED_MEDIA_TYPE: w(undefined, { status: 415, title: "Unsupported Media Type" }, "ERROR_BAD_PARAMETERS"),
  ERR_EXPECTATION_FAILED: w("Only Expect: 100-continue is understood.", { status: 417, title: "Expectation Failed", close: true }, "ERROR_BAD_PARAMETERS"),
  ERR_UNAUTHORIZED: w("The task API needs Authorization: Bearer <token>.", { status: 401, title: "Unauthorized", bearerChallenge: true }, "ERROR_KEY_DOES_NOT_EXIST"),
  ERR_NOT_FOUND: w("No resource at {path}.", { status: 404, title: "Not Found" }, "ERROR_WRONG_CAPTCHA_ID"),
  ERR_METHOD_NOT_ALLOWED: w("{method} is not allowed here; allowed: {allow}.", { status: 405, title: "Method Not Allowed", allow: true }, "ERROR_BAD_PARAMETERS"),
  ERR_QUEUE_FULL: w("The queue is full ({queueMax} tasks waiting).", TOO_MANY, "ERROR_NO_SLOT_AVAILABLE", "nobody"),
  ERR_CLIENT_LIMIT: w("Client {client} holds {limit} open tasks, its max_in_flight; ask again when one ends.", TOO_MANY, "ERROR_NO_SLOT_AVAILABLE", "client"),
  ERR_BUSY: w("Too many request bodies are being received at once; try again shortly.", { status: 503, title: "Service Unavailable", retryAfterS: 1, close: true }, "ERROR_NO_SLOT_AVAILABLE", "nobody"),
  ERR_NOT_READY: w(undefined, UNAVAILABLE, "ERROR_NO_SLOT_AVAILABLE", "nobody"),
  ERR_DRAINING: w("The worker is draining and takes no new tasks.", UNAVAILABLE, "ERROR_NO_SLOT_AVAILABLE", "nobody"),
  // The upstream refused the type lately (an `unsupported` answer): 2captcha answers ERROR_METHOD_CALL for a method it no longer serves.
  ERR_TYPE_UNSUPPORTED: w(
    "The upstream does not take {type} tasks ({code}); they are refused for {retryAfterS} s more, then one is tried again.",
    { status: 422, title: "Unprocessable Content", retryAfterS: "data" },
    "ERROR_METHOD_CALL",
    "nobody",
  ),
  ERR_OWNER_UNAVAILABLE: w("The task's owner (node {node}) does not answer; ask again.", { status: 503, title: "Service Unavailable", retryAfterS: "data" }, "ERROR_NO_SLOT_AVAILABLE", "nobody"),
  // A forwarded request without the peers' token: refused before any task is read.
  ERR_PEER_UNAUTHORIZED: w("A forwarded request needs the peers' token (--peer-token-file).", { status: 403, title: "Forbidden", close: true }, "ERROR_KEY_DOES_NOT_EXIST"),
  // A forwarded request meant for another node id (the sender's --peers maps that node to this node's address): RFC 9110 §15.5.20.
  ERR_PEER_MISADDRESSED: w("This is node {node}, but the request was meant for node {expected}: the sending node's --peers maps node {expected} to this node's address.", { status: 421, title: "Misdirected Request" }, "ERROR_NO_SLOT_AVAILABLE", "nobody"),
  // The client's side of that refusal: this node's --peers is wrong, so the owner cannot be asked.
  ERR_OWNER_MISADDRESSED: w("This node's --peers sends node {node}'s tasks to {url}, but the worker there is node {actual}; the operator must correct --peers.", { status: 502, title: "Bad Gateway" }, "ERROR_NO_SLOT_AVAILABLE", "nobody"),
  // A client's waiting reads forwarded to other nodes at once, past the cap: the rest ask again shortly (docs/cluster.md).
  ERR_TOO_MANY_WAITS: w("{caller} has {limit} waiting reads forwarded to other nodes already; ask again in a moment.", { status: 429, title: "Too Many Requests", retryAfterS: 1 }, "ERROR_NO_SLOT_AVAILABLE", "client"),
  ERR_CONFLICT: w(undefined, { status: 409, title: "Conflict" }, "ERROR_DUPLICATE_REPORT"),
  ERR_TIMEOUT: w("The request did not arrive in time.", { status: 408, title: "Request Timeout" }, "ERROR_BAD_PARAMETERS"),
  ERR_STATE_DIR: w(undefined, UNAVAILABLE, "ERROR_NO_SLOT_AVAILABLE", "nobody"),
  ERR_STATE_DIR_BUSY: w(undefined, UNAVAILABLE, "ERROR_NO_SLOT_AVAILABLE", "nobody"),
  ERR_LISTEN: w("Cannot listen{purpose} on {address}: {reason}{hint}", INTERNAL, "ERROR_NO_SLOT_AVAILABLE"),
  ERR_INTERNAL: w("The request failed inside the worker.", INTERNAL, "ERROR_NO_SLOT_AVAILABLE"),
} as const satisfies Record<string, WorkerRow>;

export type WorkerErrorCode = keyof typeof WORKER;

/** Codes a task fails with that are the worker's own; a 2captcha client reads them as `gateway`. */
const TASK = {
  timeout: t("The task was not solved within --task-timeout.", "worker"),
  shutdown: t("The worker stopped before the task ended.", "nobody"),
  SUBMIT_UNCERTAIN: t("The submit may have reached the upstream without an answer; not repeated, to avoid a double charge.", "worker"),
  owner_unavailable: { ...t("The task's owner node did not answer before the task's deadline.", "nobody"), relayed: true },
  journal: t("The task could not be recorded in --state-dir; it was withdrawn before anyone had its id.", "nobody"),
  BAD_SOLUTION: t("The upstream answered success with what does not read as the type's solution.", "worker"),
  provider_gone: t("The provider that took the task is no longer in the providers file: its answer cannot be read.", "nobody"),
} as const satisfies Record<string, TaskRow>;

export type TaskFailureCode = keyof typeof TASK;

/** Upstream calls that got no protocol answer (plus HTTP_<status> for a non-2xx answer). */
const TRANSPORT = {
  CONNECT_TIMEOUT: x("No connection to the upstream within the connect timeout.", "no"),
  TIMEOUT: x("The upstream did not answer within the check timeout.", "maybe"),
  NETWORK: x("The connection failed (refused, reset, DNS, TLS).", "maybe"),
  ABORTED: x("The call was cancelled by the worker.", "maybe"),
  BAD_BODY: x("The upstream's answer could not be read (unparseable or over the size cap).", "maybe"),
  HTML_BODY: x("The upstream sent an HTML page, not a protocol answer.", "maybe"),
  // RFC 6585 §4: a rate limit's refusal, the request not processed; a submit so answered goes to the next provider.
  HTTP_429: x("The upstream answered HTTP 429: too many requests, not taken.", "no"),
  HTTP_503: x("The upstream answered HTTP 503: not taken.", "no"),
} as const satisfies Record<string, TransportRow>;

export type TransportCode = keyof typeof TRANSPORT;

/** The registry itself: every code once. */
export const ERROR_REGISTRY = { ...PROTOCOL, ...WORKER, ...TASK, ...TRANSPORT } as const;
export type RegisteredCode = keyof typeof ERROR_REGISTRY;
export type RegistryRow = WorkerRow | TaskRow | TransportRow | ProtocolRow;

export const PROTOCOL_CODES: Readonly<Record<ProtocolCode, ProtocolRow>> = PROTOCOL;
export const WORKER_CODES: Readonly<Record<WorkerErrorCode, WorkerRow>> = WORKER;
export const TASK_CODES: Readonly<Record<TaskFailureCode, TaskRow>> = TASK;
export const TRANSPORT_CODES: Readonly<Record<TransportCode, TransportRow>> = TRANSPORT;

/** The row of `code`, or undefined for a code nobody registered (upstream free text, HTTP_<n>). */
export function registryRow(code: string): RegistryRow | undefined {
  return Object.hasOwn(ERROR_REGISTRY, code) ? ERROR_REGISTRY[code as RegisteredCode] : undefined;
}

export function isProtocolCode(code: string): code is ProtocolCode {
  return Object.hasOwn(PROTOCOL, code);
}

/**
 * How a failed task's code reads to a 2captcha client: the protocol codes its clients act on pass
 * as they are; every other reason (a timeout, a shutdown, the upstream's trouble) reads as the
 * registry says, by default ERROR_CAPTCHA_UNSOLVABLE.
 */
export function gatewayFailureCode(code: string | undefined): ProtocolCode {
  const row = code === undefined ? undefined : registryRow(code);
  if (row?.family === "protocol" && row.task === "as_is") return code as ProtocolCode;
  if (row?.family === "task") return row.gateway;
  return "ERROR_CAPTCHA_UNSOLVABLE";
}
