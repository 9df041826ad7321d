/** The in.php form CaptchaAI receives for a task, built from its catalogue entry (the upstream's method and field names) and its proxy. */
import { catalogueEntry, type TaskParams } from "../tasks/task_catalogue.ts";

/** The in.php fields for `task` (without key, json and soft_id, which the client adds); never the task's origin. */
export function taskToForm(task: TaskParams): Record<string, string> {
  const entry = catalogueEntry(task.type)!;
  const form: Record<string, string> = { method: entry.upstream.method, ...entry.upstream.fixed };
  const values = task as unknown as Record<string, unknown>;
  for (const [field, spec] of Object.entries(entry.fields)) {
    const v = values[field];
    const name = spec.upstream === undefined ? (spec.legacy?.[0] ?? field) : spec.upstream;
    if (v !== undefined && name !== null) Object.assign(form, spec.write(v, name));
  }
  if (task.proxy) Object.assign(form, task.proxy.upstreamFields());
  return form;
}
