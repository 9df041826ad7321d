/** Every spelling of a key the worker must redact: raw, upper case, percent (both cases), form (both cases), JSON (escapes and \u00XX), HTML entities, hex, base64/base64url at each alignment. */
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
