/** `captcha-worker types`: every task type the worker takes, its fields and its names in each API (from the catalogue; no worker needed). */
import { EXIT_OK, type Runtime } from "../base/runtime.ts";
import { apiName, describeTypes, legacyName } from "../tasks/task_types_doc.ts";

export function runTypesCommand(flags: { json?: boolean }, rt: Runtime): number {
  const types = describeTypes();
  if (flags.json) {
    rt.stdout(JSON.stringify({ types }, null, 2) + "\n");
    return EXIT_OK;
  }
  const lines: string[] = [];
  for (const t of types) {
    lines.push(`${t.type} (${t.kind}): ${t.title}`);
    for (const [name, f] of Object.entries(t.fields)) {
      const bounds = f.min !== undefined || f.max !== undefined ? ` ${f.min ?? ""}..${f.max ?? ""}` : "";
      lines.push(`  ${f.required ? "*" : " "} ${name.padEnd(17)} ${f.kind}${bounds}`);
    }
    lines.push(`    in.php: ${t.names.legacy.map(legacyName).join(", ")}`);
    lines.push(`    createTask: ${t.names.v2.map((n) => apiName(n)).join(", ")}`);
  }
  lines.push("", "* required. GET /v1/types on a running worker gives the same as JSON (`--json` here).");
  rt.stdout(lines.join("\n") + "\n");
  return EXIT_OK;
}
