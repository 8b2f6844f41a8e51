import { describe, expect, it } from "vitest";
import { singleFlight } from "./single-flight.ts";

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe("singleFlight", () => {
  it("when calls for one key overlap, then they share one load and its result", async () => {
    const coalesce = singleFlight<number, string>();
    const pending = deferred<string>();
    let loads = 0;
    const load = () => {
      loads++;
      return pending.promise;
    };

    const calls = Array.from({ length: 50 }, () => coalesce(1, load));
    pending.resolve("view");

    expect(await Promise.all(calls)).toEqual(Array(50).fill("view"));
    expect(loads).toBe(1);
  });

  it("when calls are for different keys, then each key loads on its own", async () => {
    const coalesce = singleFlight<number, number>();
    const keys: number[] = [];

    const load = (key: number) => async () => {
      keys.push(key);
      return key;
    };

    const results = await Promise.all([1, 2, 1, 2].map((key) => coalesce(key, load(key))));

    expect(results).toEqual([1, 2, 1, 2]);
    expect(keys).toEqual([1, 2]);
  });

  it("when a load has settled, then the next call loads again", async () => {
    const coalesce = singleFlight<number, number>();
    let loads = 0;

    await coalesce(1, async () => ++loads);
    const second = await coalesce(1, async () => ++loads);

    expect(second).toBe(2);
  });

  it("when the load fails, then every overlapping call sees the error and the next call retries", async () => {
    const coalesce = singleFlight<number, string>();
    const pending = deferred<string>();
    const calls = [coalesce(1, () => pending.promise), coalesce(1, () => pending.promise)];
    pending.reject(new Error("database down"));

    for (const call of calls) await expect(call).rejects.toThrow("database down");
    expect(await coalesce(1, async () => "recovered")).toBe("recovered");
  });
});
