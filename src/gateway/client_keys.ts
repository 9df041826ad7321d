/**
 * The gateway's clients from --client-keys-file (docs/gateway.md): `NAME KEY
 * [max_in_flight=N]` a line, `#` comments. Keys are never logged or echoed; errors name the line,
 * never its text. Parsing is linear (duplicates are found in Sets). The first read happens at start,
 * before anything listens; a reload (SIGHUP, or a changed identity seen by a timer: time, inode, size; never
 * by a request) reads the file asynchronously and parses it a slice of lines per event-loop turn,
 * so requests and probes are answered meanwhile, with the keys in use until the new ones are whole.
 * A reload that fails keeps the keys in use and logs why.
 */
import { readFile, readFileSync, stat, statSync, type Stats } from "node:fs";
import { loadBuiltin } from "../base/builtin.ts";
import type { Clock, Timer } from "../base/clock.ts";
import { WorkerError } from "../base/errors.ts";
import type { Logger } from "../base/log.ts";

// node:crypto at first use (about 2 MB of RSS): only a worker with client keys needs it.
const crypto = () => loadBuiltin("node:crypto");
// node:fs's callbacks (the thread pool reads and stats), not node:fs/promises: no module loaded for it.
const readLater = (path: string) => new Promise<string>((resolve, reject) => readFile(path, "utf8", (err, text) => (err ? reject(err) : resolve(text))));
/**
 * A file's identity: its modification time, inode and size, as app/key_files_watch.ts takes the
 * CaptchaAI key's. The time alone missed a file replaced by one of the same time (`cp -p`,
 * `rsync -a`, `install -p`, an archive's files): its new inode and size show it.
 */
const identityOf = (st: Stats) => `${st.mtimeMs}:${st.ino}:${st.size}`;
const identityLater = (path: string) => new Promise<string>((resolve, reject) => stat(path, (err, st) => (err ? reject(err) : resolve(identityOf(st)))));

export interface ClientKey {
  /** The client's name: the label of its metrics, safe to log. */
  readonly name: string;
  /** Open tasks it may hold at once; undefined: no limit of its own. */
  readonly maxInFlight: number | undefined;
}

const NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const KEY = /^[\x21-\x7e]{8,256}$/;
/** A presented key longer than this is no key of the file's (at most 256), and is not even hashed. */
const MAX_GIVEN_KEY_CHARS = 4096;
/** How often the file's identity (modification time, inode, size) is looked at (Kubernetes updates Secrets without a signal). */
export const MTIME_CHECK_MS = 1000;
/** Lines parsed, or keys hashed, per event-loop turn during a reload: a millisecond or two of work. */
export const LINES_PER_TURN = 1000;

interface Parsed {
  clients: ClientKey[];
  keys: string[];
}

/**
 * Parses the file's text a line at a time, pausing (yield) every LINES_PER_TURN lines; throws
 * ERR_CONFIG_INVALID naming the line (never quoting it: it holds a key).
 */
function* parseSteps(text: string): Generator<void, Parsed> {
  const clients: ClientKey[] = [];
  const keys: string[] = [];
  const names = new Set<string>();
  const seen = new Set<string>();
  let n = 0;
  for (let start = 0; start <= text.length; ) {
    const nl = text.indexOf("\n", start);
    const end = nl === -1 ? text.length : nl;
    const raw = text.slice(start, end);
    const line = (raw.includes("#") ? raw.replace(/(?:^|\s)#.*$/, "") : raw).trim();
    start = end + 1;
    n++;
    if (n % LINES_PER_TURN === 0) yield;
    if (line === "") continue;
    const bad = (why: string) => new WorkerError("ERR_CONFIG_INVALID", `Invalid --client-keys-file line ${n}: ${why}`, { field: "--client-keys-file" });
    const [name, key, ...extra] = line.split(/\s+/);
    if (!NAME.test(name!)) throw bad("expected NAME KEY [max_in_flight=N], NAME of 1 to 64 letters, digits, _ . or -");
    if (key === undefined || !KEY.test(key)) throw bad("expected a KEY of 8 to 256 printable characters after the name");
    let maxInFlight: number | undefined;
    for (const e of extra) {
      const m = /^max_in_flight=(\d{1,7})$/.exec(e);
      if (!m || Number(m[1]) < 1) throw bad("expected max_in_flight=N (N from 1 to 9999999) after the key");
      maxInFlight = Number(m[1]);
    }
    if (names.has(name!)) throw bad(`the name ${name} appears twice`);
    if (seen.has(key)) throw bad("a key appears twice");
    names.add(name!);
    seen.add(key);
    clients.push({ name: name!, maxInFlight });
    keys.push(key);
  }
  return { clients, keys };
}

/** Parses the file's text; throws ERR_CONFIG_INVALID naming the line (never quoting it: it holds a key). */
export function parseClientKeys(text: string): ClientKey[] & { keys: string[] } {
  const { clients, keys } = runNow(parseSteps(text));
  return Object.assign(clients, { keys });
}

function runNow<T>(steps: Generator<void, T>): T {
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

/** Runs `steps`, letting the event loop take a turn (timers, sockets, then this) at each pause. */
async function runInTurns<T>(steps: Generator<void, T>): Promise<T> {
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

export interface ClientKeysOptions {
  /** The keys file; its text when `text` is not given. */
  path: string;
  /** Fixed keys in the file's format instead of reading `path` (the demo's key): never reloaded. */
  text?: string;
  clock: Clock;
  log: Logger;
  /** @default fs.readFileSync(path, "utf8") at start, fs.readFile(path, "utf8") for a reload */
  readFile?: (path: string) => string;
  /** The file's identity (modification time, inode, size): a new one starts a reload. @default fs.statSync at start, fs.stat for a check */
  identify?: (path: string) => string | number;
}

/**
 * The map's key: the SHA-256 digest of a client key, so a lookup is one hash and one Map probe
 * whatever the number of keys, and still constant-time where it matters: the Map hashes and
 * compares the digest of the presented key, never the key, so any time a string comparison saves
 * or spends depends on that digest alone. A caller cannot steer a guess's digest towards a stored
 * one (each further leading byte in common costs 256 times the tries), and sharing leading digest
 * bytes brings a guess no closer to the key (SHA-256 has no known preimage shortcut): timing tells
 * nothing about the key, as with bearerChecker's comparison of digests (http/task_routes.ts).
 */
const digestOf = (key: string) => {
  const c = crypto();
  // crypto.hash (Node 20.12, 21.7): one call, a third of createHash's time for a short key.
  return typeof c.hash === "function" ? c.hash("sha256", key, "base64") : c.createHash("sha256").update(key).digest("base64");
};

interface Loaded {
  clients: readonly ClientKey[];
  byDigest: ReadonlyMap<string, ClientKey>;
  /** For the onLoad listeners only: the keys themselves are not kept. */
  keys: readonly string[];
}

function* loadSteps(text: string): Generator<void, Loaded> {
  const { clients, keys } = yield* parseSteps(text);
  const byDigest = new Map<string, ClientKey>();
  for (let i = 0; i < keys.length; i++) {
    byDigest.set(digestOf(keys[i]!), clients[i]!);
    if ((i + 1) % LINES_PER_TURN === 0) yield;
  }
  return { clients, keys, byDigest };
}

export class ClientKeys {
  readonly #o: ClientKeysOptions;
  readonly #read: (path: string) => string | Promise<string>;
  readonly #identify: (path: string) => string | number | Promise<string | number>;
  #clients: readonly ClientKey[] = [];
  #byDigest: ReadonlyMap<string, ClientKey> = new Map();
  /** The identity of the file the last load read, whether it parsed or not: changes after it start a reload. */
  #triedIdentity: string | number = Number.NaN;
  #listeners: ((keys: readonly string[]) => void)[] = [];
  /** The reload running or last run; reloads run one at a time. */
  #last: Promise<boolean> = Promise.resolve(true);
  /** A reload asked for that has not started reading yet: another request joins it. */
  #waiting: Promise<boolean> | undefined;
  #checking: Promise<void> = Promise.resolve();
  #timer: Timer | undefined;
  #stopped = false;

  /**
   * Reads the file at once (at start, before anything listens); throws ERR_CONFIG_INVALID when it
   * cannot be read or parsed (exit 78). A file (not `text`) is then watched for a new identity.
   */
  constructor(o: ClientKeysOptions) {
    this.#o = o;
    const text = o.text;
    const readNow = text !== undefined ? () => text : (o.readFile ?? ((p: string) => readFileSync(p, "utf8")));
    const identifyNow = text !== undefined ? () => 0 : (o.identify ?? ((p: string) => identityOf(statSync(p))));
    this.#read = text !== undefined ? readNow : (o.readFile ?? readLater);
    this.#identify = text !== undefined ? identifyNow : (o.identify ?? identityLater);
    let read: string;
    try {
      this.#triedIdentity = identifyNow(o.path);
      read = readNow(o.path);
    } catch (err) {
      throw unreadable(o.path, err);
    }
    this.#use(runNow(loadSteps(read)));
    if (text === undefined) this.#watch();
  }

  /** How many clients the file names. */
  get size(): number {
    return this.#clients.length;
  }

  /** The names, for metrics (never the keys). */
  get names(): string[] {
    return this.#clients.map((c) => c.name);
  }

  /** Called with the keys after every (re)load: the hook a log redactor or another credential check takes. */
  onLoad(listener: (keys: readonly string[]) => void): void {
    this.#listeners.push(listener);
  }

  /** The client holding `key`, or undefined: one hash and one Map lookup, whatever the number of keys. */
  find(key: string | undefined): ClientKey | undefined {
    if (key === undefined || key === "" || key.length > MAX_GIVEN_KEY_CHARS) return undefined;
    return this.#byDigest.get(digestOf(key));
  }

  /**
   * Re-reads the file (SIGHUP) in the background; resolves with whether it loaded. On failure it
   * logs why and the keys in use stay. Asked during a reload, another runs after it (the file may
   * have changed since it was read).
   */
  reload(): Promise<boolean> {
    if (this.#waiting) return this.#waiting;
    const run = this.#last.then(() => {
      this.#waiting = undefined;
      return this.#reloadNow();
    });
    this.#waiting = run;
    this.#last = run;
    return run;
  }

  /** Resolves once no modification-time check or reload is running. */
  async settled(): Promise<void> {
    await this.#checking;
    await this.#last;
  }

  /** Stops watching the file (the worker stops). */
  stop(): void {
    this.#stopped = true;
    this.#timer?.cancel();
  }

  async #reloadNow(): Promise<boolean> {
    try {
      let text: string;
      try {
        this.#triedIdentity = await this.#identify(this.#o.path);
        text = await this.#read(this.#o.path);
      } catch (err) {
        throw unreadable(this.#o.path, err);
      }
      this.#use(await runInTurns(loadSteps(text)));
      this.#o.log.info("client keys loaded", { clients: this.#clients.length });
      return true;
    } catch (err) {
      this.#o.log.warn("client keys not reloaded; the previous ones stay in use", { err: err instanceof WorkerError ? err.message : "unreadable" });
      return false;
    }
  }

  /** Swaps the keys in use for `loaded`, whole, in one step. */
  #use(loaded: Loaded): void {
    this.#clients = loaded.clients;
    this.#byDigest = loaded.byDigest;
    for (const l of this.#listeners) l(loaded.keys);
  }

  /** Looks at the file's identity every MTIME_CHECK_MS, the next look after this one (and its reload) ends. */
  #watch(): void {
    if (this.#stopped) return;
    this.#timer = this.#o.clock.setTimeout(() => {
      this.#checking = this.#checkIdentity().finally(() => this.#watch());
    }, MTIME_CHECK_MS);
  }

  async #checkIdentity(): Promise<void> {
    if (this.#waiting) return; // a reload about to read the file anyway
    let identity: string | number;
    try {
      identity = await this.#identify(this.#o.path);
    } catch {
      return; // gone for a moment (a Secret's symlink swap): keep what is loaded
    }
    if (identity !== this.#triedIdentity) await this.reload();
  }
}

function unreadable(path: string, err: unknown): WorkerError {
  const code = (err as NodeJS.ErrnoException).code ?? "unreadable";
  return new WorkerError("ERR_CONFIG_INVALID", `Invalid --client-keys-file: cannot read ${JSON.stringify(path)} (${code})`, { field: "--client-keys-file" });
}
