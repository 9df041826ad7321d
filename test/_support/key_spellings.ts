/** Every spelling of a key (or another secret) the worker must redact: raw, upper case, percent (both cases), form (both cases), JSON (escapes and \u00XX), HTML entities, hex, base64/base64url at each alignment; and a search that finds a secret in any of them. */
const lower = (s: string) => s.replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase());

/** The spellings of `key`, by name, each as it would appear inside a larger text. */
export function keySpellings(key: string): Record<string, string> {
  const form = new URLSearchParams({ k: key }).toString().slice(2);
  const out: Record<string, string> = {
    raw: key,
    // An upstream's error codes are upper case: a hex key echoed in one is still the key.
    upper: key.toUpperCase(),
    mixed: [...key].map((c, i) => (i % 2 ? c.toUpperCase() : c.toLowerCase())).join(""),
    percent: encodeURIComponent(key),
    "percent-lower": lower(encodeURIComponent(key)),
    form,
    "form-lower": lower(form),
    json: JSON.stringify(key).slice(1, -1),
    "json-unicode": [...key].map((c) => `\\u${c.codePointAt(0)!.toString(16).padStart(4, "0")}`).join(""),
    "html-decimal": [...key].map((c) => `&#${c.codePointAt(0)};`).join(""),
    "html-hex": [...key].map((c) => `&#x${c.codePointAt(0)!.toString(16).toUpperCase()};`).join(""),
    hex: Buffer.from(key).toString("hex"),
    "hex-upper": Buffer.from(key).toString("hex").toUpperCase(),
  };
  for (let a = 0; a < 3; a++) {
    for (let z = 0; z < 3; z++) {
      const bytes = Buffer.concat([Buffer.from("xyz".slice(0, a)), Buffer.from(key), Buffer.from("uv".slice(0, z))]);
      out[`base64@${a}+${z}`] = bytes.toString("base64");
      out[`base64url@${a}+${z}`] = bytes.toString("base64url");
    }
  }
  return out;
}

const BITS = (s: string, alphabet: string) => [...s].map((c) => alphabet.indexOf(c).toString(2).padStart(6, "0")).join("");
const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/**
 * Where a secret (a key, a proxy password) shows in `text` in any spelling the search can decode
 * (raw in any letter case, or its first 12 characters; percent or form escapes; JSON \\u escapes and
 * HTML entities; hex; base64 and base64url at any bit offset); [] when nowhere. It decodes what it
 * finds rather than spelling the secret out, so it does not share the redactor's idea of a spelling.
 */
export function findSecret(text: string, key: string): string[] {
  const found: string[] = [];
  if (text.includes(key) || text.includes(key.slice(0, 12))) found.push("raw");
  const folded = text.toLowerCase();
  if (folded.includes(key.toLowerCase()) || folded.includes(key.slice(0, 12).toLowerCase())) found.push("raw in another letter case");
  const unescaped = text.replace(/\+/g, " ").replace(/(?:%[0-9a-fA-F]{2})+/g, (m) => {
    try {
      return decodeURIComponent(m);
    } catch {
      return m;
    }
  });
  if (unescaped.includes(key)) found.push("percent-decoded");
  const entities = text
    .replace(/\\u([0-9a-fA-F]{4})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)))
    .replace(/&#[xX]([0-9a-fA-F]+);/g, (_m, h: string) => String.fromCodePoint(parseInt(h, 16)))
    .replace(/&#(\d+);/g, (_m, d: string) => String.fromCodePoint(Number(d)));
  if (entities.includes(key)) found.push("unicode-escapes or entities decoded");
  for (const run of text.match(/[0-9a-fA-F]{24,}/g) ?? []) {
    for (const start of [0, 1]) if (Buffer.from(run.slice(start), "hex").toString("latin1").includes(key)) found.push(`hex ${run.slice(0, 20)}...`);
  }
  const keyBits = [...Buffer.from(key)].map((b) => b.toString(2).padStart(8, "0")).join("");
  for (const run of text.match(/[A-Za-z0-9+/_-]{16,}/g) ?? []) {
    if (BITS(run.replaceAll("-", "+").replaceAll("_", "/"), B64).includes(keyBits)) found.push(`base64 ${run.slice(0, 20)}...`);
  }
  return found;
}
