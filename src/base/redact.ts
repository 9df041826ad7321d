/**
 * Every spelling of a secret that can reach a log line, a response or an error: raw, its letters in
 * either case (an upstream's error codes are upper case); JSON- and HTML-escaped; percent-encoded in upper, lower or mixed case (encodeURIComponent, and the form
 * encoding URLSearchParams puts on the wire, which also encodes `! ' ( ) ~` and writes a space as
 * `+`), each character in any of these spellings; and base64 / base64url at the three byte alignments
 * (the secret's bytes at offset 0, 1 or 2 of a larger base64 text: the characters that depend only
 * on the secret's bytes are the same whatever surrounds them).
 */

export const REDACTED = "[REDACTED]";

/** Secrets shorter than this get no base64 needles: their inner substrings would be too short to be specific. */
const MIN_BASE64_BYTES = 6;

/** Returns a function that replaces every spelling of every secret in a string. */
export function createRedactor(secrets: readonly string[]): (text: string) => string {
  const alternatives = new Set<string>();
  for (const s of secrets) {
    if (!s) continue;
    alternatives.add(spellingPattern(s));
    for (const b of base64Needles(s)) alternatives.add(escapeRegExp(b));
  }
  if (alternatives.size === 0) return (text) => text;
  // Longest first, so a longer spelling is replaced whole rather than around a shorter one.
  const pattern = new RegExp([...alternatives].sort((a, b) => b.length - a.length).join("|"), "g");
  return (text) => (text.length === 0 ? text : text.replace(pattern, REDACTED));
}

/** A pattern matching `s` with each character raw (either letter case), escaped or percent-encoded (any hex case). */
function spellingPattern(s: string): string {
  let out = "";
  for (const ch of s) {
    const forms = new Set<string>([escapeRegExp(ch)]);
    // Letters in either case: an upstream's error codes are upper case, and a hex key is the same key in both.
    for (const other of [ch.toUpperCase(), ch.toLowerCase()]) if ([...other].length === 1) forms.add(escapeRegExp(other));
    const json = JSON.stringify(ch).slice(1, -1);
    if (json !== ch) forms.add(escapeRegExp(json));
    forms.add(percentPattern(ch));
    if (ch === " ") forms.add("\\+");
    for (const entity of HTML_ENTITIES[ch] ?? []) forms.add(entity);
    out += forms.size === 1 ? [...forms][0]! : `(?:${[...forms].join("|")})`;
  }
  return out;
}

const HTML_ENTITIES: Record<string, string[]> = {
  "&": ["&amp;", "&#0*38;", "&#[xX]0*26;"],
  "<": ["&lt;", "&#0*60;", "&#[xX]0*3[cC];"],
  ">": ["&gt;", "&#0*62;", "&#[xX]0*3[eE];"],
  '"': ["&quot;", "&#0*34;", "&#[xX]0*22;"],
  "'": ["&apos;", "&#0*39;", "&#[xX]0*27;"],
};

/** `%XX` for each UTF-8 byte of `ch`, each hex digit in either case. */
function percentPattern(ch: string): string {
  let out = "";
  for (const byte of Buffer.from(ch, "utf8")) {
    const hex = byte.toString(16).toUpperCase().padStart(2, "0");
    out += "%" + [...hex].map((d) => (/[A-F]/.test(d) ? `[${d}${d.toLowerCase()}]` : d)).join("");
  }
  return out;
}

/**
 * The base64 and base64url substrings that encode `s`'s bytes wherever they sit in a larger text:
 * at alignment a (0, 1 or 2 bytes before it in its 3-byte group), the characters from ceil(4a/3) to
 * floor(4(a+n)/3) depend on the secret's bytes only.
 */
export function base64Needles(s: string): string[] {
  const bytes = Buffer.from(s, "utf8");
  if (bytes.length < MIN_BASE64_BYTES) return [];
  const out = new Set<string>();
  for (let a = 0; a < 3; a++) {
    const b64 = Buffer.concat([Buffer.alloc(a), bytes]).toString("base64");
    const inner = b64.slice(Math.ceil((4 * a) / 3), Math.floor((4 * (a + bytes.length)) / 3));
    out.add(inner);
    out.add(inner.replaceAll("+", "-").replaceAll("/", "_"));
  }
  return [...out];
}

function escapeRegExp(s: string): string {
  return s.replace(/[\\^$.*+?()[\]{}|/-]/g, "\\$&");
}

/**
 * A set of secrets that can grow (a key re-read on SIGHUP): `redact` always covers every secret
 * added so far, old ones included, since an old key may still turn up in an answer or a log line.
 */
export class SecretSet {
  readonly #secrets: string[] = [];
  #redact: (text: string) => string = (text) => text;

  constructor(secrets: readonly (string | undefined)[] = []) {
    for (const s of secrets) if (s) this.add(s);
  }

  add(secret: string): void {
    if (!secret || this.#secrets.includes(secret)) return;
    this.#secrets.push(secret);
    this.#redact = createRedactor(this.#secrets);
  }

  /** Replaces every spelling of every secret in `text`. */
  readonly redact = (text: string): string => this.#redact(text);
}
