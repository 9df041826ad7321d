/** How each task kind becomes in.php form fields (2captcha API reference). */
import type { TaskParams } from "../tasks/task_params.ts";

/** The in.php fields for `task` (without key, json and soft_id, which the client adds). */
export function taskToForm(task: TaskParams): Record<string, string> {
  switch (task.type) {
    case "image": {
      const f: Record<string, string> = { method: "base64", body: task.image };
      if (task.phrase !== undefined) f.phrase = task.phrase ? "1" : "0";
      if (task.regsense !== undefined) f.regsense = task.regsense ? "1" : "0";
      if (task.numeric !== undefined) f.numeric = String(task.numeric);
      if (task.calc !== undefined) f.calc = task.calc ? "1" : "0";
      if (task.min_len !== undefined) f.min_len = String(task.min_len);
      if (task.max_len !== undefined) f.max_len = String(task.max_len);
      if (task.lang !== undefined) f.lang = task.lang;
      if (task.language !== undefined) f.language = String(task.language);
      if (task.textinstructions !== undefined) f.textinstructions = task.textinstructions;
      return f;
    }
    case "recaptcha_v2": {
      const f: Record<string, string> = { method: "userrecaptcha", googlekey: task.sitekey, pageurl: task.pageurl };
      if (task.invisible !== undefined) f.invisible = task.invisible ? "1" : "0";
      if (task.enterprise) f.enterprise = "1";
      return f;
    }
    case "recaptcha_v3": {
      const f: Record<string, string> = { method: "userrecaptcha", version: "v3", googlekey: task.sitekey, pageurl: task.pageurl };
      if (task.action !== undefined) f.action = task.action;
      if (task.min_score !== undefined) f.min_score = String(task.min_score);
      if (task.enterprise) f.enterprise = "1";
      return f;
    }
    case "turnstile": {
      const f: Record<string, string> = { method: "turnstile", sitekey: task.sitekey, pageurl: task.pageurl };
      if (task.action !== undefined) f.action = task.action;
      if (task.data !== undefined) f.data = task.data;
      return f;
    }
  }
}
