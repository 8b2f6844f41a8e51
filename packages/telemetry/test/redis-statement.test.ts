import { describe, expect, it } from "vitest";
import { redisStatement } from "../src/redis-statement.ts";

describe("the db.query.text of a Redis command's span", () => {
  it("when a script is called, then its keys are shown and its arguments counted, not shown", () => {
    expect(
      redisStatement("evalsha", [
        "5e8c",
        "3",
        "{c:1}:terms",
        "{c:1}:issued",
        "{c:1}:outbox",
        "user-42",
        "req-7",
      ]),
    ).toBe("evalsha 5e8c 3 {c:1}:terms {c:1}:issued {c:1}:outbox [2 other arguments]");
    expect(redisStatement("EVAL", ["return 1", 0, "secret"])).toBe("EVAL return 1 0 [1 other arguments]");
  });

  it("when a script takes only keys, then nothing is counted as left out", () => {
    expect(redisStatement("fcall", ["settle", 1, "{c:1}:outbox"])).toBe("fcall settle 1 {c:1}:outbox");
  });

  it("when another command is sent, then OpenTelemetry's default applies (a SET's value left out)", () => {
    expect(redisStatement("get", ["key-1"])).toBe("get key-1");
    expect(redisStatement("set", ["key-1", "value"])).toBe("set key-1 [1 other arguments]");
  });
});
