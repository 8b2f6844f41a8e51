// What the shared token verifier costs next to the RSA signature check it cannot avoid, and next to
// the hand-written verifier it replaced: verifications per second of createJwtVerifier (jsonwebtoken;
// JWKS cache warm, so no network), of the former hand-written verifier over the same key cache, and
// of a bare crypto.verify over the same signing inputs with the same key. Rounds of the three
// alternate so that drift in the machine's speed hits them alike; the median counts.
//   pnpm bench:auth        (BENCH_TOKENS, BENCH_ROUNDS, BENCH_ROUND_MS change the run)
import { createPublicKey, verify } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { resolve } from "node:path";
import { createJwtVerifier, createRemoteJwks } from "@coupon/auth";
import { startTestTokenIssuer } from "@coupon/auth/testing";
import { createHandWrittenVerifier } from "./lib/hand-written-verifier.ts";

const TOKENS = Number(process.env.BENCH_TOKENS ?? 2000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const ROUND_MS = Number(process.env.BENCH_ROUND_MS ?? 1000);

const issuer = await startTestTokenIssuer();
const tokens = Array.from({ length: TOKENS }, (_, i) =>
  issuer.token({ sub: String(i + 1), role: i % 10 === 0 ? "admin" : "user" }),
);
const keys = createRemoteJwks({ url: issuer.jwksUrl });
const verifier = createJwtVerifier({ keys, issuer: issuer.issuer, audience: issuer.audience });
const handWritten = createHandWrittenVerifier({ keys, issuer: issuer.issuer, audience: issuer.audience });
await verifier.verify(tokens[0] as string);

const publicKey = createPublicKey(issuer.activeKey().privateKey);
const signed = tokens.map((token) => {
  const dot = token.lastIndexOf(".");
  return {
    input: Buffer.from(token.slice(0, dot)),
    signature: Buffer.from(token.slice(dot + 1), "base64url"),
  };
});

/** Runs `batch` (which verifies tokens[from..from+n)) until the round's time is up; returns per second. */
async function rate(batch: (from: number, n: number) => Promise<void> | void): Promise<number> {
  const step = 50;
  let done = 0;
  const started = process.hrtime.bigint();
  const deadline = started + BigInt(ROUND_MS) * 1_000_000n;
  while (process.hrtime.bigint() < deadline) {
    await batch(done % TOKENS, Math.min(step, TOKENS - (done % TOKENS)));
    done += Math.min(step, TOKENS - (done % TOKENS));
  }
  return done / (Number(process.hrtime.bigint() - started) / 1e9);
}

const through =
  (v: { verify(token: string): Promise<unknown> }) =>
  async (from: number, n: number): Promise<void> => {
    for (let i = from; i < from + n; i++) await v.verify(tokens[i] as string);
  };
const ways = {
  verifier: through(verifier),
  handWritten: through(handWritten),
  crypto: (from: number, n: number) => {
    for (let i = from; i < from + n; i++) {
      const { input, signature } = signed[i] as (typeof signed)[number];
      if (!verify("RSA-SHA256", input, publicKey, signature)) throw new Error(`token ${i} does not verify`);
    }
  },
};
type Way = keyof typeof ways;
const names = Object.keys(ways) as Way[];

for (const name of names) await rate(ways[name]);
const rates: Record<Way, number[]> = { verifier: [], handWritten: [], crypto: [] };
for (let round = 0; round < ROUNDS; round++) {
  // Each round starts with another of the three, so none always runs first or last.
  for (let k = 0; k < names.length; k++) {
    const name = names[(round + k) % names.length] as Way;
    rates[name].push(await rate(ways[name]));
  }
}
const jwksFetches = issuer.jwksRequests();
await issuer.close();

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
};
// Ratios of figures measured in the same round, so that a change in the machine's load between
// rounds cancels out; their spread shows how noisy the run was.
const paired = (a: Way, b: Way) => rates[a].map((r, round) => r / (rates[b][round] as number));
const ratios = {
  verifierToCrypto: paired("verifier", "crypto"),
  handWrittenToCrypto: paired("handWritten", "crypto"),
  verifierToHandWritten: paired("verifier", "handWritten"),
};
const result = {
  date: new Date().toISOString(),
  node: process.version,
  cpu: cpus()[0]?.model ?? "unknown",
  cores: cpus().length,
  key: "RSA 2048, RS256",
  distinctTokens: TOKENS,
  rounds: ROUNDS,
  roundMs: ROUND_MS,
  jwksFetches,
  verifierPerSec: Math.round(median(rates.verifier)),
  handWrittenPerSec: Math.round(median(rates.handWritten)),
  cryptoVerifyPerSec: Math.round(median(rates.crypto)),
  roundRatios: Object.fromEntries(
    Object.entries(ratios).map(([name, values]) => [name, values.map((r) => Number(r.toFixed(3)))]),
  ),
  ratios: Object.fromEntries(Object.entries(ratios).map(([name, values]) => [name, median(values)])),
};

const format = (n: number) => n.toLocaleString("en-US").padStart(9);
const spread = (values: number[]) => `${Math.min(...values).toFixed(3)}–${Math.max(...values).toFixed(3)}`;
const costMore = (ratio: number) => `${((1 / ratio - 1) * 100).toFixed(1)}% more per token`;
console.log(
  `auth-verify: ${result.key}, ${TOKENS} distinct tokens, median of ${ROUNDS} rounds of ${ROUND_MS} ms`,
);
console.log(`  ${result.node} on ${result.cpu} (${result.cores} cores)`);
console.log(`  createJwtVerifier (jsonwebtoken)    ${format(result.verifierPerSec)} verifications/s`);
console.log(`  hand-written verifier (before)      ${format(result.handWrittenPerSec)} verifications/s`);
console.log(`  crypto.verify, signature only       ${format(result.cryptoVerifyPerSec)} verifications/s`);
for (const [label, name] of [
  ["jsonwebtoken / crypto.verify ", "verifierToCrypto"],
  ["hand-written / crypto.verify ", "handWrittenToCrypto"],
  ["jsonwebtoken / hand-written  ", "verifierToHandWritten"],
] as const) {
  const ratio = result.ratios[name] as number;
  console.log(
    `  ratio ${label}${ratio.toFixed(3).padStart(9)}  (${costMore(ratio)}; rounds ${spread(ratios[name])})`,
  );
}
console.log(`  JWKS fetches during the run: ${jwksFetches}`);

const resultsDir = resolve(import.meta.dirname, "results");
mkdirSync(resultsDir, { recursive: true });
writeFileSync(resolve(resultsDir, "auth-verify.json"), `${JSON.stringify(result, null, 2)}\n`);
