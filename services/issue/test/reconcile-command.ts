import { execFile } from "node:child_process";
import { resolve } from "node:path";
import { promisify } from "node:util";

const script = resolve(import.meta.dirname, "../src/commands/reconcile.ts");

/** Runs the reconcile command as its own process with the given environment: its exit code and output. */
export async function runReconcileCommand(
  env: Record<string, string>,
  args: readonly string[],
): Promise<{ code: number; stdout: string }> {
  try {
    const { stdout } = await promisify(execFile)(process.execPath, [script, ...args], {
      env: { PATH: process.env.PATH ?? "", ...env },
    });
    return { code: 0, stdout };
  } catch (error) {
    const { code, stdout } = error as { code: number; stdout: string };
    return { code, stdout };
  }
}
