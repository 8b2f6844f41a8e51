import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { isRedisOutageError, isRedisUnavailable } from "../src/index.ts";

// Nothing listens on this port: every command fails the way it fails in an outage.
const unreachable = new Redis({
  port: 1,
  lazyConnect: true,
  maxRetriesPerRequest: 1,
  retryStrategy: () => 50,
});

afterAll(() => unreachable.disconnect());

describe("isRedisOutageError: errors of any origin", () => {
  it("when ioredis could not reach Redis, then it is an outage", async () => {
    const error = await unreachable.get("k").catch((e: unknown) => e);
    expect(isRedisOutageError(error)).toBe(true);
    expect(isRedisUnavailable(error)).toBe(true);
  });

  it("when Redis answers that it cannot serve now, then it is an outage; a wrong command is not", () => {
    const reply = (message: string) => Object.assign(new Error(message), { name: "ReplyError" });
    expect(isRedisOutageError(reply("READONLY You can't write against a read only replica."))).toBe(true);
    expect(isRedisOutageError(reply("LOADING Redis is loading the dataset in memory"))).toBe(true);
    expect(
      isRedisOutageError(reply("WRONGTYPE Operation against a key holding the wrong kind of value")),
    ).toBe(false);
  });

  it("when the error is a bug, then it is not an outage, though isRedisUnavailable would take it for one", () => {
    const bug = new TypeError("Cannot read properties of undefined (reading 'id')");
    expect(isRedisOutageError(bug)).toBe(false);
    expect(isRedisUnavailable(bug)).toBe(true);
    expect(isRedisOutageError("a string")).toBe(false);
  });
});
