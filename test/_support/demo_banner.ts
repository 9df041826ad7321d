/**
 * The demo banner's command lines as a newcomer sees them (indented lines that start with a command or
 * a `name=$(...)` capture), each run by sh the way a pasted line runs, a captured variable carried to
 * the lines after it as the same terminal would.
 */
import { execFile } from "node:child_process";

/** A printed command line and the banner line it stands under (what it says the command does). */
export interface BannerCommand {
  heading: string;
  line: string;
}

/**
 * What a pasted line starts with: a shell variable set from a command, a shell loop or test, or a
 * program a banner may print (the labelled URL rows, "status page   http://...", start with none).
 */
const COMMAND = /^(?:[A-Za-z_]\w*=\$\(|(?:until|while|for|if|curl|wget|node|npx|npm|sleep|sh|bash|echo|printf|export|cd|captcha-worker)\s)/;

/** Every command line of `banner`, in order, with the heading above it (the last unindented line). */
export function bannerCommands(banner: string): BannerCommand[] {
  const out: BannerCommand[] = [];
  let heading = "";
  for (const raw of banner.split("\n")) {
    if (raw.trim() === "") continue;
    if (!raw.startsWith(" ")) {
      heading = raw.trim();
      continue;
    }
    const line = raw.trim();
    if (COMMAND.test(line)) out.push({ heading, line });
  }
  return out;
}

/** The shell variable a line sets from a command's output (`id=$(curl ...)`), if it does. */
export function capturedName(line: string): string | undefined {
  return /^([A-Za-z_]\w*)=\$\(/.exec(line)?.[1];
}

export interface LineResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** The value of the variable the line set, for a capture line. */
  captured?: string;
}

/**
 * Runs `line` with `sh -c` in `cwd`, the variables captured before in its environment (as the same
 * terminal holds them); a capture line's value is read back after it.
 */
export function runLine(line: string, options: { cwd: string; env: NodeJS.ProcessEnv; vars: Record<string, string>; timeoutMs?: number }): Promise<LineResult> {
  const name = capturedName(line);
  const script = name ? `${line}\nprintf '\\n%s' "$${name}"` : line;
  return new Promise((resolve) => {
    execFile("sh", ["-c", script], { cwd: options.cwd, env: { ...options.env, ...options.vars }, timeout: options.timeoutMs ?? 60_000, maxBuffer: 8 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === "number" ? ((err as { code: number }).code) : null) : 0;
      if (!name) return resolve({ code, stdout, stderr });
      const cut = stdout.lastIndexOf("\n");
      resolve({ code, stdout: stdout.slice(0, cut), stderr, captured: stdout.slice(cut + 1) });
    });
  });
}
