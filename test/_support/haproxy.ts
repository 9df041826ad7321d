/** Talking to a real HAProxy in system tests: one command on its admin socket. */
import { connect } from "node:net";

/** One command on HAProxy's admin socket; its answer up to EOF. */
export function haproxyCommand(socketPath: string, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(socketPath);
    let text = "";
    s.setEncoding("utf8");
    s.on("data", (c: string) => (text += c));
    s.on("end", () => resolve(text));
    s.on("error", reject);
    s.write(command + "\n");
  });
}
