// How much the shared token verifier costs next to the RSA signature check it cannot avoid:
// verifications per second of createJwtVerifier (JWKS cache warm, so no network) and of a bare
// crypto.verify over the same signing inputs with the same key, and their ratio. Rounds of the two
// alternate so that drift in the machine's speed hits both alike; the median counts.
//   pnpm bench:auth        (BENCH_TOKENS, BENCH_ROUNDS, BENCH_ROUND_MS change the run)
import { createPublicKey, verify } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { resolve } from "node:path";
import { createJwtVerifier, createRemoteJwks } from "@coupon/auth";
import { startTestTokenIssuer } from "@coupon/auth/testing";

const TOKENS = Number(process.env.BENCH_TOKENS ?? 2000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const ROUND_MS = Number(process.env.BENCH_ROUND_MS ?? 1000);

const issuer = await startTestTokenIssuer();
const tokens = Array.from({ length: TOKENS }, (_, i) =>
  issuer.token({ sub: String(i + 1), role: i % 10 === 0 ? "admin" : "user" }),
);
const verifier = createJwtVerifier({
  keys: createRemoteJwks({ url: issuer.jwksUrl }),
  issuer: issuer.issuer,
  audience: issuer.audience,
});
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

const viaVerifier = async (from: number, n: number) => {
  for (let i = from; i < from + n; i++) await verifier.verify(tokens[i] as string);
};
const viaCrypto = (from: number, n: number) => {
  for (let i = from; i < from + n; i++) {
    const { input, signature } = signed[i] as (typeof signed)[number];
    if (!verify("RSA-SHA256", input, publicKey, signature)) throw new Error(`token ${i} does not verify`);
  }
};

await rate(viaVerifier);
await rate(viaCrypto);
const verifierRates: number[] = [];
const cryptoRates: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  verifierRates.push(await rate(viaVerifier));
  cryptoRates.push(await rate(viaCrypto));
}
const pairedRatios = verifierRates.map((rate, round) => rate / (cryptoRates[round] as number));
const jwksFetches = issuer.jwksRequests();
await issuer.close();

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
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
  verifierPerSec: Math.round(median(verifierRates)),
  cryptoVerifyPerSec: Math.round(median(cryptoRates)),
  // Each round's verifier figure over the crypto figure measured right after it, so that a change
  // in the machine's load between rounds cancels out; the spread shows how noisy the run was.
  roundRatios: pairedRatios.map((ratio) => Number(ratio.toFixed(3))),
  ratio: median(pairedRatios),
};

const format = (n: number) => n.toLocaleString("en-US").padStart(9);
console.log(
  `auth-verify: ${result.key}, ${TOKENS} distinct tokens, median of ${ROUNDS} rounds of ${ROUND_MS} ms`,
);
console.log(`  ${result.node} on ${result.cpu} (${result.cores} cores)`);
console.log(`  createJwtVerifier, warm JWKS cache  ${format(result.verifierPerSec)} verifications/s`);
console.log(`  crypto.verify, signature only        ${format(result.cryptoVerifyPerSec)} verifications/s`);
console.log(
  `  ratio verifier / crypto.verify       ${result.ratio.toFixed(3).padStart(9)}  ` +
    `(the verifier costs ${((1 / result.ratio - 1) * 100).toFixed(1)}% more per token)`,
);
console.log(
  `  round ratios from ${Math.min(...pairedRatios).toFixed(3)} to ${Math.max(...pairedRatios).toFixed(3)}`,
);
console.log(`  JWKS fetches during the run: ${jwksFetches}`);

const resultsDir = resolve(import.meta.dirname, "results");
mkdirSync(resultsDir, { recursive: true });
writeFileSync(resolve(resultsDir, "auth-verify.json"), `${JSON.stringify(result, null, 2)}\n`);
