// One JSON request of a benchmark's client: never throws (a failed connection answers status 0).
import { request } from "node:http";

/** `body` sent as JSON (a string as it is); resolves with the status and the answer's text. */
export function http(agent, method, url, body) {
  return new Promise((resolve) => {
    const text = body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body);
    const req = request(url, { method, agent, headers: text ? { "content-type": "application/json" } : {} }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString() }));
    });
    req.on("error", () => resolve({ status: 0, text: "" }));
    req.end(text);
  });
}
