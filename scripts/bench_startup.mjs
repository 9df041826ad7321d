// Time from exec of dist/captcha-worker to its first 200 on /health/live, median of N runs (default 5).
import { spawn } from "node:child_process";
import { once } from "node:events";
import { request } from "node:http";
import { freePort } from "../test/_support/net.ts";

const BIN = new URL("../dist/captcha-worker", import.meta.url).pathname;
const RUNS = Number(process.env.RUNS ?? 5);


function get(port) {
  return new Promise((resolve) => {
    const req = request({ host: "127.0.0.1", port, path: "/health/live" }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on("error", () => resolve(0));
    req.end();
  });
}

export async function measureStartup(args = [], env = {}, bin = BIN) {
  const port = await freePort();
  const started = performance.now();
  const child = spawn(bin, ["run", "--listen", `127.0.0.1:${port}`, "--log-level", "warn", ...args], {
    env: { CAPTCHAAI_API_KEY: "bench-startup-key", ...env },
    stdio: "ignore",
  });
  let ms;
  for (;;) {
    if ((await get(port)) === 200) {
      ms = performance.now() - started;
      break;
    }
    if (performance.now() - started > 10_000) throw new Error("no 200 within 10s");
  }
  child.kill("SIGTERM");
  await once(child, "exit");
  return ms;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const times = [];
  for (let i = 0; i < RUNS; i++) times.push(await measureStartup());
  times.sort((a, b) => a - b);
  console.log(`exec to first 200 on /health/live: median ${times[Math.floor(times.length / 2)].toFixed(1)}ms over ${RUNS} runs (${times.map((t) => t.toFixed(0)).join(", ")} ms)`);
}
