import { describe, expect, it } from "vitest";
import { isUserId } from "./user-id.ts";

describe("isUserId", () => {
  it("when the id is a positive decimal within BIGINT, then it is accepted", () => {
    expect(["1", "42", "9223372036854775807"].every(isUserId)).toBe(true);
  });

  it("when the id is zero, signed, padded, too large or not a string, then it is refused", () => {
    for (const value of ["0", "-1", "01", " 1", "9223372036854775808", "9999999999999999999", "1e3", 42]) {
      expect(isUserId(value), String(value)).toBe(false);
    }
  });
});
