// What settling relayed outbox entries costs Redis, the one process every issue pod shares: the
// relay's former XACK + XDEL of each batch against lua/outbox-settle-1.lua (XACK, then XTRIM MINID
// below what the group still needs). Each round fills a stream with entries shaped like the
// issuance script's, reads them in batches with a consumer group as the relay does and settles
// every batch one way; Redis's own time for the settling commands (INFO commandstats) is divided
// by the entries. Rounds alternate between the two ways; the median counts.
//   pnpm bench:settle      (needs the local Redis: ./dev up; REDIS_URL, BENCH_ENTRIES, BENCH_BATCH,
//                           BENCH_ROUNDS change the run)
import { randomUUID } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { createRedis, luaScript } from "@coupon/redis";

const ENTRIES = Number(process.env.BENCH_ENTRIES ?? 30_000);
const BATCH = Number(process.env.BENCH_BATCH ?? 300);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const GROUP = "outbox-relay";

const redis = createRedis(
  {
    REDIS_URL: process.env.REDIS_URL ?? "redis://127.0.0.1:16379",
    REDIS_SENTINEL_MASTER: "unused",
    REDIS_KEY_PREFIX: `bench:settle:${randomUUID()}:`,
  },
  "bench-settle",
  { enableAutoPipelining: false },
);
redis.defineCommand("settleOutbox", { numberOfKeys: 1, lua: luaScript("outbox-settle-1.lua") });
const settleOutbox = (redis as unknown as { settleOutbox: (...args: string[]) => Promise<number> })
  .settleOutbox;

type Way = "xack+xdel" | "outbox-settle-1.lua";
const COMMANDS: Record<Way, string[]> = {
  "xack+xdel": ["xack", "xdel"],
  "outbox-settle-1.lua": ["evalsha", "eval"],
};

async function redisUsec(commands: string[]): Promise<number> {
  const stats = await redis.info("commandstats");
  return commands.reduce((sum, command) => {
    const match = new RegExp(`cmdstat_${command}:calls=\\d+,usec=(\\d+)`).exec(stats);
    return sum + (match ? Number(match[1]) : 0);
  }, 0);
}

async function round(way: Way): Promise<number> {
  const stream = `{coupon:${randomUUID()}}:outbox`;
  await redis.xgroup("CREATE", stream, GROUP, "0", "MKSTREAM");
  for (let written = 0; written < ENTRIES; written += 1000) {
    const pipeline = redis.pipeline();
    for (let i = written; i < Math.min(ENTRIES, written + 1000); i++) {
      pipeline.xadd(
        stream,
        "*",
        "couponId",
        "1",
        "eventId",
        "1",
        "userId",
        String(1_000_000 + i),
        "issuedAt",
        String(Date.now()),
        "requestId",
        randomUUID(),
      );
    }
    await pipeline.exec();
  }
  const before = await redisUsec(COMMANDS[way]);
  for (;;) {
    const reply = (await redis.xreadgroup("GROUP", GROUP, "bench", "COUNT", BATCH, "STREAMS", stream, ">")) as
      | [string, [string, string[]][]][]
      | null;
    if (!reply) break;
    const ids = reply.flatMap(([, entries]) => entries.map(([id]) => id));
    if (way === "xack+xdel") {
      await redis
        .pipeline()
        .xack(stream, GROUP, ...ids)
        .xdel(stream, ...ids)
        .exec();
    } else {
      await settleOutbox.call(redis, stream, GROUP, ...ids);
    }
  }
  const usec = (await redisUsec(COMMANDS[way])) - before;
  const left = await redis.xlen(stream);
  await redis.del(stream);
  if (left !== 0) throw new Error(`${way} left ${left} entries in the stream`);
  return usec / ENTRIES;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

const rounds: Record<Way, number[]> = { "xack+xdel": [], "outbox-settle-1.lua": [] };
for (let i = 0; i < ROUNDS; i++) {
  const order: Way[] =
    i % 2 === 0 ? ["xack+xdel", "outbox-settle-1.lua"] : ["outbox-settle-1.lua", "xack+xdel"];
  for (const way of order) rounds[way].push(await round(way));
}
await redis.quit();

const result = {
  entries: ENTRIES,
  batch: BATCH,
  usecPerEntry: {
    "xack+xdel": median(rounds["xack+xdel"]),
    "outbox-settle-1.lua": median(rounds["outbox-settle-1.lua"]),
  },
  rounds,
  ratio: median(rounds["outbox-settle-1.lua"]) / median(rounds["xack+xdel"]),
};
for (const way of Object.keys(rounds) as Way[]) {
  const figures = rounds[way].map((v) => v.toFixed(2)).join(", ");
  process.stdout.write(
    `${way}: ${result.usecPerEntry[way].toFixed(2)} µs of Redis per entry (rounds: ${figures})\n`,
  );
}
process.stdout.write(`outbox-settle-1.lua ÷ xack+xdel: ${result.ratio.toFixed(2)}\n`);
const resultsDir = resolve(import.meta.dirname, "results");
mkdirSync(resultsDir, { recursive: true });
writeFileSync(resolve(resultsDir, "outbox-settle.json"), `${JSON.stringify(result, null, 2)}\n`);
