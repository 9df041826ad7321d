// npm run bench -- keys: a large --client-keys-file (docs/gateway.md). In this
// process, on the source: parsing 10,000 / 30,000 / 100,000 lines, a start's load (parse and hash),
// a reload of the largest (its whole time and its longest event-loop turn: what a probe waits at
// worst) and one lookup among that many keys. On the built executable: exec to the first 200 on
// /health/live with each file, then /health/live probed every 10 ms through a SIGHUP reload of the
// largest (its slowest answer, and the time until a key new in the file is accepted), and a
// request's time with every key loaded. KEYS_LINES=10000,30000 picks the sizes; KEYS_SRC=<dir>
// measures another tree's src/ in-process (a before/after), BENCH_BIN another build.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";

const SIZES = (process.env.KEYS_LINES ?? "10000,30000,100000").split(",").map(Number);
const SRC = process.env.KEYS_SRC ?? new URL("../src/", import.meta.url).pathname;
const NEW_KEY = "bench-newcomer-key-0123456789abcdef";

const keyOf = (tag, i) => `${tag}-${i.toString(16).padStart(6, "0")}-0123456789abcdef`;
const lines = (tag, n, extra = "") => extra + Array.from({ length: n }, (_, i) => `${tag}${i} ${keyOf(tag, i)} max_in_flight=5`).join("\n") + "\n";
/** `fn`'s wall time and this process's CPU time (the machine may be shared: CPU time is the steadier figure). */
async function timed(fn) {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const value = await fn();
  const wall = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { value, wall, cpu: (c.user + c.system) / 1000, text: `${s(wall)} (CPU ${s((c.user + c.system) / 1000)})` };
}
const s = (ms) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(ms < 10 ? 2 : 0)} ms`);

/** `h`: bench.mjs's plumbing (simulator, http, start, stop, quantile, ms, BIN). */
export async function benchKeys(h) {
  await inProcess();
  await onTheExecutable(h);
}

async function inProcess() {
  const { parseClientKeys, ClientKeys } = await import(SRC + "gateway/client_keys.ts");
  const { systemClock } = await import(SRC + "base/clock.ts");
  const { silentLogger } = await import(SRC + "base/log.ts");
  console.log(`  in this process (${SRC}):`);
  const texts = SIZES.map((n) => lines("a", n));
  for (const [i, n] of SIZES.entries()) {
    console.log(`    parse ${n.toLocaleString("en")} lines: ${(await timed(() => parseClientKeys(texts[i]))).text}`);
  }
  const n = SIZES.at(-1);
  const file = { text: texts.at(-1) };
  const start = await timed(() => new ClientKeys({ path: "(bench)", clock: systemClock, log: silentLogger, readFile: () => file.text, mtimeMs: () => 1 }));
  const keys = start.value;
  console.log(`    load at start, ${n.toLocaleString("en")} lines (parse and hash): ${start.text}`);
  file.text = lines("b", n);
  // The gaps between two turns of the event loop while the reload runs: what a request waits.
  const gaps = [];
  let done = false;
  let last = performance.now();
  const spin = () => {
    const now = performance.now();
    gaps.push(now - last);
    last = now;
    if (!done) setImmediate(spin);
  };
  setImmediate(spin);
  last = performance.now();
  const reload = await timed(() => keys.reload());
  gaps.push(performance.now() - last);
  done = true;
  gaps.sort((a, b) => a - b);
  const q = (x) => s(gaps[Math.min(gaps.length - 1, Math.floor(x * gaps.length))]);
  console.log(`    reload, ${n.toLocaleString("en")} lines: ${reload.text}${reload.value ? "" : " (FAILED)"}; ${gaps.length} event-loop turns meanwhile, median ${q(0.5)}, p99 ${q(0.99)}, longest ${s(gaps.at(-1))}`);
  const key = keyOf("b", n - 1);
  let calls = 0;
  const t0 = performance.now();
  while (calls < 100_000 && performance.now() - t0 < 2000) for (let i = 0; i < 100; i++, calls++) if (keys.find(key) === undefined) throw new Error("key not found");
  console.log(`    find among ${n.toLocaleString("en")} keys: ${(((performance.now() - t0) / calls) * 1000).toFixed(1)} µs a call (${calls.toLocaleString("en")} calls)`);
  keys.stop?.();
}

async function onTheExecutable(h) {
  const dir = mkdtempSync(tmpdir() + "/cw-bench-keys-");
  const sim = await h.simulator();
  const children = [];
  try {
    console.log(`  the executable (${h.BIN}):`);
    let last;
    for (const n of SIZES) {
      const file = `${dir}/clients-${n}`;
      writeFileSync(file, lines("a", n));
      const port = await h.freePort();
      const url = `http://127.0.0.1:${port}`;
      const t0 = performance.now();
      const child = h.start(["run", "--listen", `127.0.0.1:${port}`, "--upstream", sim.url, "--log-level", "warn", "--client-keys-file", file], { CAPTCHAAI_API_KEY: h.KEY });
      children.push(child);
      while ((await h.http("GET", url + "/health/live").catch(() => ({ status: 0 }))).status !== 200) {
        if (child.exitCode !== null) throw new Error(`worker exited ${child.exitCode}`);
        await new Promise((r) => setTimeout(r, 5));
      }
      console.log(`    exec to the first 200 on /health/live, ${n.toLocaleString("en")} lines: ${s(performance.now() - t0)}`);
      if (last) await h.stop(last.child);
      last = { child, url, file, n };
    }
    const { child, url, file, n } = last;
    const balance = async (key) => (await h.http("GET", `${url}/res.php?key=${key}&action=getbalance`).catch(() => ({ text: "(reset)" }))).text;
    const until = async (what, fn) => {
      for (const t0 = performance.now(); !(await fn()); await new Promise((r) => setTimeout(r, 20))) if (performance.now() - t0 > 600_000) throw new Error(`not within 10 min: ${what}`);
    };
    await until("ready", async () => (await h.http("GET", url + "/health/ready")).status === 200);
    // A request's time with every key loaded: the key found is the file's last.
    const times = [];
    for (let i = 0; i < 300; i++) {
      const t0 = performance.now();
      if (!/^\d/.test(await balance(keyOf("a", n - 1)))) throw new Error("key refused");
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    console.log(`    res.php getbalance with ${n.toLocaleString("en")} keys loaded, 300 in a row: p50 ${h.ms(h.quantile(times, 0.5))}, p99 ${h.ms(h.quantile(times, 0.99))}`);
    // SIGHUP with a new file; /health/live every 10 ms until the new key is accepted.
    writeFileSync(file, lines("b", n, `newcomer ${NEW_KEY}\n`));
    const probes = [];
    let loaded = false;
    const t0 = performance.now();
    child.kill("SIGHUP");
    const probing = (async () => {
      while (!loaded) {
        const p0 = performance.now();
        const r = await h.http("GET", url + "/health/live").catch(() => ({ status: 0 })); // a reset counts as a failed probe
        probes.push({ ms: performance.now() - p0, status: r.status });
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    await until("the new key", async () => /^\d/.test(await balance(NEW_KEY)));
    const took = performance.now() - t0;
    loaded = true;
    await probing;
    const slowest = Math.max(...probes.map((p) => p.ms));
    const failed = probes.filter((p) => p.status !== 200).length;
    console.log(`    SIGHUP reload, ${n.toLocaleString("en")} lines: the new key accepted after ${s(took)}; /health/live every 10 ms meanwhile: ${probes.length} probes, slowest ${s(slowest)}, ${failed} not 200`);
  } finally {
    for (const c of children) await h.stop(c);
    await h.stop(sim.child);
    rmSync(dir, { recursive: true, force: true });
  }
}
