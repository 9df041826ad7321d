/** GET /v1/types: every task type, its fields and its names in each API (the catalogue described; precomputed, no auth: it says nothing of any task). */
import { describeTypes } from "../tasks/task_types_doc.ts";
import { sendText } from "./respond.ts";
import type { Router } from "./router.ts";

export function registerTypesRoute(router: Router): void {
  const text = JSON.stringify({ types: describeTypes() });
  router.on("GET", "/v1/types", (_req, res) => sendText(res, 200, text, "application/json"));
}
