/**
 * The gateway's clients from --client-keys-file (SPEC §11): `NAME KEY [max_in_flight=N]` a line,
 * `#` comments. Keys are compared in constant time (hashed first, every entry compared) and never
 * logged or echoed; errors name the line, never its text. A reload that fails keeps the keys in use.
 */
import { readFileSync, statSync } from "node:fs";
import { loadBuiltin } from "../base/builtin.ts";
import type { Clock } from "../base/clock.ts";
import { WorkerError } from "../base/errors.ts";
import type { Logger } from "../base/log.ts";

// node:crypto at first use (about 2 MB of RSS): only a worker with client keys needs it.
const crypto = () => loadBuiltin("node:crypto");

export interface ClientKey {
  /** The client's name: the label of its metrics, safe to log. */
  readonly name: string;
  /** Open tasks it may hold at once; undefined: no limit of its own. */
  readonly maxInFlight: number | undefined;
}

interface Entry {
  client: ClientKey;
  hash: Buffer;
}

const NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const KEY = /^[\x21-\x7e]{8,256}$/;
/** How often at most the file's modification time is looked at (Kubernetes updates Secrets without a signal). */
export const MTIME_CHECK_MS = 1000;

/** Parses the file's text; throws ERR_CONFIG_INVALID naming the line (never quoting it: it holds a key). */
export function parseClientKeys(text: string): ClientKey[] & { keys: string[] } {
  const out: ClientKey[] = [];
  const keys: string[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/(?:^|\s)#.*$/, "").trim();
    if (line === "") continue;
    const bad = (why: string) => new WorkerError("ERR_CONFIG_INVALID", `Invalid --client-keys-file line ${i + 1}: ${why}`, { field: "--client-keys-file" });
    const [name, key, ...extra] = line.split(/\s+/);
    if (!NAME.test(name!)) throw bad("expected NAME KEY [max_in_flight=N], NAME of 1 to 64 letters, digits, _ . or -");
    if (key === undefined || !KEY.test(key)) throw bad("expected a KEY of 8 to 256 printable characters after the name");
    let maxInFlight: number | undefined;
    for (const e of extra) {
      const m = /^max_in_flight=(\d{1,7})$/.exec(e);
      if (!m || Number(m[1]) < 1) throw bad("expected max_in_flight=N (N from 1 to 9999999) after the key");
      maxInFlight = Number(m[1]);
    }
    if (out.some((c) => c.name === name)) throw bad(`the name ${name} appears twice`);
    if (keys.includes(key)) throw bad("a key appears twice");
    out.push({ name: name!, maxInFlight });
    keys.push(key);
  }
  return Object.assign(out, { keys });
}

export interface ClientKeysOptions {
  /** The keys file; its text when `text` is not given. */
  path: string;
  /** Fixed keys in the file's format instead of reading `path` (the demo's key): never reloaded. */
  text?: string;
  clock: Clock;
  log: Logger;
  /** @default fs.readFileSync(path, "utf8") */
  readFile?: (path: string) => string;
  /** The file's modification time in ms. @default fs.statSync(path).mtimeMs */
  mtimeMs?: (path: string) => number;
}

const sha256 = (s: string) => crypto().createHash("sha256").update(s).digest();

export class ClientKeys {
  readonly #o: ClientKeysOptions;
  readonly #read: (path: string) => string;
  readonly #mtime: (path: string) => number;
  #entries: Entry[] = [];
  #mtimeMs = Number.NaN;
  #checkedAt = Number.NEGATIVE_INFINITY;
  #listeners: ((keys: readonly string[]) => void)[] = [];

  /** Reads the file at once; throws ERR_CONFIG_INVALID when it cannot be read or parsed (exit 78 at start). */
  constructor(o: ClientKeysOptions) {
    this.#o = o;
    const text = o.text;
    this.#read = text !== undefined ? () => text : (o.readFile ?? ((p) => readFileSync(p, "utf8")));
    this.#mtime = text !== undefined ? () => 0 : (o.mtimeMs ?? ((p) => statSync(p).mtimeMs));
    this.#load();
  }

  /** How many clients the file names. */
  get size(): number {
    return this.#entries.length;
  }

  /** The names, for metrics (never the keys). */
  get names(): string[] {
    return this.#entries.map((e) => e.client.name);
  }

  /** Called with the keys after every (re)load: the hook a log redactor or another credential check takes. */
  onLoad(listener: (keys: readonly string[]) => void): void {
    this.#listeners.push(listener);
  }

  /** The client holding `key`, or undefined; constant time in the key (every entry is compared). */
  find(key: string | undefined): ClientKey | undefined {
    this.#reloadIfChanged();
    if (key === undefined || key === "" || key.length > 4096) return undefined;
    const given = sha256(key);
    let found: ClientKey | undefined;
    for (const e of this.#entries) if (crypto().timingSafeEqual(given, e.hash) && found === undefined) found = e.client;
    return found;
  }

  /** Re-reads the file (SIGHUP); on failure logs and keeps the keys in use. Returns whether it loaded. */
  reload(): boolean {
    try {
      this.#load();
      this.#o.log.info("client keys loaded", { clients: this.#entries.length });
      return true;
    } catch (err) {
      this.#o.log.warn("client keys not reloaded; the previous ones stay in use", { err: err instanceof WorkerError ? err.message : "unreadable" });
      return false;
    }
  }

  #reloadIfChanged(): void {
    const now = this.#o.clock.now();
    if (now - this.#checkedAt < MTIME_CHECK_MS) return;
    this.#checkedAt = now;
    let mtime: number;
    try {
      mtime = this.#mtime(this.#o.path);
    } catch {
      return; // gone for a moment (a Secret's symlink swap): keep what is loaded
    }
    if (mtime !== this.#mtimeMs) this.reload();
  }

  #load(): void {
    let text: string;
    let mtime = Number.NaN;
    try {
      mtime = this.#mtime(this.#o.path);
      text = this.#read(this.#o.path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? "unreadable";
      throw new WorkerError("ERR_CONFIG_INVALID", `Invalid --client-keys-file: cannot read ${JSON.stringify(this.#o.path)} (${code})`, { field: "--client-keys-file" });
    }
    const parsed = parseClientKeys(text);
    this.#entries = parsed.map((client, i) => ({ client, hash: sha256(parsed.keys[i]!) }));
    this.#mtimeMs = mtime;
    this.#checkedAt = this.#o.clock.now();
    for (const l of this.#listeners) l(parsed.keys);
  }
}
