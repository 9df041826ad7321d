/**
 * A page in a real headless Chromium, driven over the DevTools protocol (Node's own WebSocket): load
 * a URL at a viewport size, read the rendered DOM and layout figures, take a screenshot. The page
 * under test runs no script of its own; only DevTools evaluates in it.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface Chromium {
  /** Loads `url` at width x height (a phone's viewport below 600 px) and waits for its load event. */
  open(url: string, width: number, height: number): Promise<ChromiumPage>;
  close(): Promise<void>;
}

export interface ChromiumPage {
  /** Evaluates `expression` in the page and returns its value (JSON-serialisable). */
  evaluate<T>(expression: string): Promise<T>;
  /** A PNG of the viewport, or of the whole page with `full`. */
  screenshot(full?: boolean): Promise<Buffer>;
  close(): Promise<void>;
}

type Message = { id?: number; method?: string; sessionId?: string; result?: Record<string, unknown>; error?: { message: string } };

/** Starts headless Chromium with a throwaway profile and connects to its browser endpoint. */
export async function launchChromium(path: string): Promise<Chromium> {
  const profile = mkdtempSync(join(tmpdir(), "cw-chromium-profile-"));
  const child: ChildProcess = spawn(path, [
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--hide-scrollbars", "--remote-debugging-port=0", `--user-data-dir=${profile}`, "about:blank",
  ], { stdio: ["ignore", "ignore", "pipe"] });
  const endpoint = await new Promise<string>((resolve, reject) => {
    let err = "";
    const timer = setTimeout(() => reject(new Error(`chromium gave no DevTools endpoint:\n${err.slice(-2000)}`)), 30_000);
    child.stderr!.on("data", (c: Buffer) => {
      err += c;
      const m = /DevTools listening on (ws:\/\/\S+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.once("exit", (code) => reject(new Error(`chromium exited with ${code}:\n${err.slice(-2000)}`)));
  });
  const ws = new WebSocket(endpoint);
  await once(ws as unknown as EventTarget & NodeJS.EventEmitter, "open");
  let next = 1;
  const pending = new Map<number, { resolve: (v: Record<string, unknown>) => void; reject: (e: Error) => void }>();
  const waiters: { sessionId: string; method: string; resolve: () => void }[] = [];
  ws.addEventListener("message", (e: MessageEvent) => {
    const msg = JSON.parse(String(e.data)) as Message;
    if (msg.id !== undefined) {
      const p = pending.get(msg.id);
      pending.delete(msg.id);
      if (msg.error) p?.reject(new Error(msg.error.message));
      else p?.resolve(msg.result ?? {});
      return;
    }
    const i = waiters.findIndex((w) => w.sessionId === msg.sessionId && w.method === msg.method);
    if (i >= 0) waiters.splice(i, 1)[0]!.resolve();
  });
  const send = (method: string, params: Record<string, unknown> = {}, sessionId?: string) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const id = next++;
      pending.set(id, { resolve, reject });
      ws.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
    });
  const event = (sessionId: string, method: string) => new Promise<void>((resolve) => waiters.push({ sessionId, method, resolve }));

  return {
    async open(url, width, height) {
      const { targetId } = (await send("Target.createTarget", { url: "about:blank" })) as { targetId: string };
      const { sessionId } = (await send("Target.attachToTarget", { targetId, flatten: true })) as { sessionId: string };
      await send("Page.enable", {}, sessionId);
      await send("Emulation.setDeviceMetricsOverride", { width, height, deviceScaleFactor: 1, mobile: width < 600 }, sessionId);
      const loaded = event(sessionId, "Page.loadEventFired");
      await send("Page.navigate", { url }, sessionId);
      await loaded;
      return {
        async evaluate<T>(expression: string) {
          const r = (await send("Runtime.evaluate", { expression, returnByValue: true }, sessionId)) as { result: { value: T }; exceptionDetails?: unknown };
          if (r.exceptionDetails) throw new Error(`evaluation failed: ${JSON.stringify(r.exceptionDetails)}`);
          return r.result.value;
        },
        async screenshot(full = false) {
          const size = full ? ((await send("Runtime.evaluate", { expression: "[document.documentElement.scrollWidth, document.documentElement.scrollHeight]", returnByValue: true }, sessionId)) as { result: { value: [number, number] } }).result.value : undefined;
          const clip = size && { x: 0, y: 0, width: size[0], height: size[1], scale: 1 };
          const r = (await send("Page.captureScreenshot", { format: "png", ...(clip ? { clip, captureBeyondViewport: true } : {}) }, sessionId)) as { data: string };
          return Buffer.from(r.data, "base64");
        },
        async close() {
          await send("Target.closeTarget", { targetId });
        },
      };
    },
    async close() {
      // The browser may go before it answers.
      await Promise.race([send("Browser.close").catch(() => undefined), once(child, "exit"), new Promise((r) => setTimeout(r, 5000).unref())]);
      ws.close();
      if (child.exitCode === null) {
        const exited = once(child, "exit");
        setTimeout(() => child.kill("SIGKILL"), 5000).unref();
        await exited;
      }
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
