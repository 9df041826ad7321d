/** `host:port` addresses as users write them: parsing and formatting (IPv6 in brackets). */
import type { HostPort } from "./config.ts";

/** Parses `host:port`, `[v6]:port` or `:port` (all interfaces); port 0 asks the OS for one. */
export function parseHostPort(raw: string): HostPort | undefined {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]*)):(\d{1,5})$/.exec(raw.trim());
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port > 65535) return undefined;
  const host = m[1] ?? (m[2] === "" ? "0.0.0.0" : m[2]!);
  return { host, port };
}

/** Writes an address back as `host:port`, with an IPv6 host in brackets. */
export function formatHostPort({ host, port }: HostPort): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}
