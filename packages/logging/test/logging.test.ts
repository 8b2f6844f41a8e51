import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger, runWithLogContext } from "../src/index.ts";

function capture() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  return { lines, destination };
}

describe("createLogger", () => {
  it("when logging inside a context, then every line carries the request and trace ids", async () => {
    const { lines, destination } = capture();
    const logger = createLogger({ service: "issue", level: "info", destination });

    await runWithLogContext({ request_id: "req-1", trace_id: "trace-1" }, async () => {
      logger.info("first");
      await new Promise((resolve) => setImmediate(resolve));
      runWithLogContext({ span_id: "span-1" }, () => logger.info("nested"));
    });
    logger.info("outside");

    expect(lines[0]).toMatchObject({ service: "issue", level: "info", msg: "first", request_id: "req-1" });
    expect(lines[0]).toMatchObject({ trace_id: "trace-1" });
    expect(lines[1]).toMatchObject({ request_id: "req-1", trace_id: "trace-1", span_id: "span-1" });
    expect(lines[2]).not.toHaveProperty("request_id");
    expect(typeof lines[0]?.time).toBe("string");
  });

  it("when the level is warn, then info lines are dropped", () => {
    const { lines, destination } = capture();
    const logger = createLogger({ service: "user", level: "warn", destination });
    logger.info("quiet");
    logger.warn("loud");
    expect(lines.map((l) => l.msg)).toEqual(["loud"]);
  });
});
