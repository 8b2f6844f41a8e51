import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { repoRoot, testEndpoints } from "@coupon/testing";
import { Validator } from "@seriousme/openapi-schema-validator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openFlashSale, type System, startSystem } from "./system.ts";

const SCHEMATHESIS = resolve(repoRoot, ".local/schemathesis/bin/schemathesis");
const CONFIG = resolve(import.meta.dirname, "schemathesis.toml");

let system: System;
let adminToken: string;

beforeAll(async () => {
  if (!existsSync(SCHEMATHESIS)) throw new Error(`${SCHEMATHESIS} is missing: run scripts/bootstrap.sh`);
  system = await startSystem("openapi", testEndpoints().kafkaBrokers);
  // Logged in once: the fuzzed logins soon reach the per-address limit.
  adminToken = await system.adminToken();
  // An open coupon, so that fuzzed issuances also reach the ones that succeed and the duplicates.
  await openFlashSale(system, 1_000);
}, 120_000);

afterAll(() => system?.stop(), 60_000);

interface Run {
  code: number;
  output: string;
}

/** schemathesis in a scratch directory, as it leaves its state in the one it runs in. */
async function schemathesis(args: string[]): Promise<Run> {
  const cwd = await mkdtemp(join(tmpdir(), "schemathesis-"));
  try {
    return await new Promise<Run>((done, fail) => {
      execFile(
        SCHEMATHESIS,
        ["--config-file", CONFIG, "--no-color", ...args],
        { cwd, env: { PATH: process.env.PATH ?? "" }, maxBuffer: 64 * 1024 * 1024, timeout: 150_000 },
        (error, stdout, stderr) => {
          const code = error === null ? 0 : error.code;
          if (typeof code !== "number") fail(error);
          else done({ code, output: `${stdout}${stderr}` });
        },
      );
    });
  } finally {
    await rm(cwd, { recursive: true, force: true });
  }
}

// The coupon service before the issue service: the coupons its fuzzing creates are issued from next.
describe.each(["user", "coupon", "issue", "consumer"] as const)("the %s service's API", (service) => {
  const url = () => `${system.services[service].baseUrl}/openapi.json`;

  it("when /openapi.json is fetched, then it is a valid OpenAPI 3.1 document", async () => {
    const res = await fetch(url());
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    const document = (await res.json()) as Record<string, unknown>;
    const validator = new Validator();
    expect(await validator.validate(document)).toEqual({ valid: true });
    expect(validator.version).toBe("3.1");
  });

  it("when schemathesis fuzzes every route from it, then no answer is a 5xx or differs from the document", async () => {
    const { code, output } = await schemathesis([
      "run",
      url(),
      "--header",
      `Authorization: Bearer ${adminToken}`,
    ]);
    expect(code, output).toBe(0);
    expect(output).toMatch(/\d+ generated, \d+ passed/);
  }, 150_000);
});
