import { execFile } from "node:child_process";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";

const fixture = resolve(import.meta.dirname, "fixtures/crashing-process.ts");

function runToCrash(
  how: "throw" | "reject",
): Promise<{ code: number | null; lines: Record<string, unknown>[] }> {
  return new Promise((done) => {
    const child = execFile(process.execPath, [fixture, how], { timeout: 10_000 }, (_error, stdout) => {
      const lines = stdout
        .split("\n")
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>);
      done({ code: child.exitCode, lines });
    });
  });
}

describe("a service process that hits an error nothing handles", () => {
  it.each(["throw", "reject"] as const)(
    "when it is a %s, then one fatal JSON line names the error and the process exits 1",
    async (how) => {
      const { code, lines } = await runToCrash(how);
      expect(code).toBe(1);
      const fatal = lines.filter((line) => line.level === "fatal");
      expect(fatal).toHaveLength(1);
      expect(fatal[0]).toMatchObject({
        service: "crash-test",
        err: { message: how === "throw" ? "boom in a timer" : "boom in a promise" },
      });
    },
  );
});
