// A TCP port free on 127.0.0.1 right now, for the scripts that start servers on chosen ports.
import { once } from "node:events";
import { createServer } from "node:net";

export async function freePort() {
  const s = createServer().listen(0, "127.0.0.1");
  await once(s, "listening");
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}
