/** `host:port` addresses as users write them: parsing and formatting (IPv6 in brackets). */
import { formatHostPort, type HostPort } from "../base/listen.ts";

export { formatHostPort };

/** Parses `host:port`, `[v6]:port` or `:port` (all interfaces); port 0 asks the OS for one. */
export function parseHostPort(raw: string): HostPort | undefined {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]*)):(\d{1,5})$/.exec(raw.trim());
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port > 65535) return undefined;
  const host = m[1] ?? (m[2] === "" ? "0.0.0.0" : m[2]!);
  return { host, port };
}
