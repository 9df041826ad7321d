/** Structured logging: JSON lines or text, with secrets redacted on the finished line so no caller can leak them. */
import { createRedactor, type SecretSet } from "./redact.ts";

export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFormat = "json" | "text";
export type LogFields = Record<string, unknown>;

const LEVEL_RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
export { REDACTED } from "./redact.ts";
export { createRedactor };

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  enabled(level: LogLevel): boolean;
  /** A logger that adds `fields` to every line. */
  child(fields: LogFields): Logger;
}

export interface LoggerOptions {
  /** @default "info" */
  level?: LogLevel;
  /** @default "json" */
  format?: LogFormat;
  /** Values that must never appear in output (the CaptchaAI key): a fixed list, or a set that may grow. */
  secrets?: readonly string[] | SecretSet;
  /** Where finished lines go (one call per line, newline included). */
  write: (line: string) => void;
  /** @default () => new Date().toISOString() */
  timestamp?: () => string;
}

/** Creates a logger; redaction happens after serialisation, so fields, messages and errors are all covered. */
export function createLogger(options: LoggerOptions): Logger {
  const minRank = LEVEL_RANK[options.level ?? "info"];
  const format = options.format ?? "json";
  const secrets = options.secrets ?? [];
  const redact = Array.isArray(secrets) ? createRedactor(secrets as readonly string[]) : (secrets as SecretSet).redact;
  const timestamp = options.timestamp ?? (() => new Date().toISOString());

  const make = (bound: LogFields): Logger => {
    const emit = (level: LogLevel, msg: string, fields?: LogFields) => {
      if (LEVEL_RANK[level] < minRank) return;
      const all = fields ? { ...bound, ...fields } : bound;
      const line = format === "json" ? formatJson(timestamp(), level, msg, all) : formatText(timestamp(), level, msg, all);
      options.write(redact(line) + "\n");
    };
    return {
      debug: (m, f) => emit("debug", m, f),
      info: (m, f) => emit("info", m, f),
      warn: (m, f) => emit("warn", m, f),
      error: (m, f) => emit("error", m, f),
      enabled: (level) => LEVEL_RANK[level] >= minRank,
      child: (fields) => make({ ...bound, ...fields }),
    };
  };
  return make({});
}

function formatJson(ts: string, level: LogLevel, msg: string, fields: LogFields): string {
  return JSON.stringify({ ts, level, msg, ...fields }, jsonReplacer);
}

function formatText(ts: string, level: LogLevel, msg: string, fields: LogFields): string {
  let line = `${ts} ${level.toUpperCase().padEnd(5)} ${msg}`;
  for (const [k, v] of Object.entries(fields)) {
    const s = typeof v === "string" ? v : JSON.stringify(v, jsonReplacer);
    line += ` ${k}=${typeof v === "string" && /[\s"=]/.test(v) ? JSON.stringify(s) : s}`;
  }
  return line;
}

function jsonReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) {
    const out: Record<string, unknown> = { name: value.name, message: value.message };
    if ("code" in value) out.code = (value as { code: unknown }).code;
    if (value.cause !== undefined) out.cause = value.cause;
    return out;
  }
  if (typeof value === "bigint") return value.toString();
  return value;
}

/** A logger that drops everything (for tests and library use). */
export const silentLogger: Logger = createLogger({ level: "error", write: () => {} });
