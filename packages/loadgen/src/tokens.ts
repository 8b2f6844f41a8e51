import { createHash, createPrivateKey } from "node:crypto";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { toPublicJwk } from "@coupon/auth";

export interface TokenBatch {
  /** PEM of the RS256 signing key: the user service's own key, so the tokens verify through its JWKS. */
  privateKeyPem: string;
  issuer: string;
  audience: string;
  /** Users get ids firstUserId, firstUserId + 1, …: distinct users, one token each. */
  firstUserId: number;
  count: number;
  expiresInSec: number;
}

export interface MintOptions {
  /** Tokens are kept here and reused while they have at least `minRemainingSec` left. */
  cacheDir?: string;
  minRemainingSec?: number;
  threads?: number;
}

interface CachedTokens {
  expiresAt: number;
  tokens: string[];
}

/**
 * Users per cache file. Files are cut at the same places for every count, so a run with more users
 * reuses the files of a smaller run and mints only the rest, and no file is too large for one string.
 */
const TOKEN_CACHE_CHUNK = 10_000;

interface Chunk {
  from: number;
  count: number;
  file: string | undefined;
}

function chunks(batch: TokenBatch, cacheDir: string | undefined): Chunk[] {
  const kid = cacheDir ? toPublicJwk(createPrivateKey(batch.privateKeyPem)).kid : "";
  const result: Chunk[] = [];
  for (let from = 0; from < batch.count; from += TOKEN_CACHE_CHUNK) {
    const count = Math.min(TOKEN_CACHE_CHUNK, batch.count - from);
    const id = createHash("sha256")
      .update(JSON.stringify([kid, batch.issuer, batch.audience, batch.firstUserId + from, count]))
      .digest("hex")
      .slice(0, 16);
    result.push({ from, count, file: cacheDir ? join(cacheDir, `tokens-${id}.json`) : undefined });
  }
  return result;
}

async function readCache(file: string, minRemainingSec: number): Promise<string[] | undefined> {
  try {
    const cached = JSON.parse(await readFile(file, "utf8")) as CachedTokens;
    return cached.expiresAt - Date.now() / 1000 > minRemainingSec ? cached.tokens : undefined;
  } catch {
    return undefined;
  }
}

function mintRange(batch: TokenBatch, from: number, count: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL("./mint-worker.ts", import.meta.url), {
      workerData: { ...batch, firstUserId: batch.firstUserId + from, count },
    });
    worker.once("message", resolve);
    worker.once("error", reject);
  });
}

/** Signs the tokens of the given chunks (one run of consecutive users) on `threads` threads. */
async function mint(batch: TokenBatch, missing: Chunk[], threads: number): Promise<string[]> {
  const from = (missing[0] as Chunk).from;
  const count = missing.reduce((sum, chunk) => sum + chunk.count, 0);
  const workers = Math.max(1, Math.min(threads, count));
  const per = Math.ceil(count / workers);
  const parts = await Promise.all(
    Array.from({ length: workers }, (_, i) =>
      mintRange(batch, from + i * per, Math.max(0, Math.min(per, count - i * per))),
    ),
  );
  return parts.flat();
}

/**
 * Signs one RS256 token per distinct user, on every core (RSA signing is the slow part), and caches
 * them so repeated runs with the same users start at once.
 */
export async function mintTokens(batch: TokenBatch, options: MintOptions = {}): Promise<string[]> {
  const minRemainingSec = options.minRemainingSec ?? 900;
  const threads = options.threads ?? availableParallelism();
  const all = chunks(batch, options.cacheDir);
  const found = await Promise.all(
    all.map((chunk) => (chunk.file ? readCache(chunk.file, minRemainingSec) : undefined)),
  );
  // Consecutive missing chunks are minted together, so every thread gets a share of the work.
  const runs: Chunk[][] = [];
  all.forEach((chunk, i) => {
    if (found[i]) return;
    const last = runs.at(-1)?.at(-1);
    if (last && last.from + last.count === chunk.from) runs.at(-1)?.push(chunk);
    else runs.push([chunk]);
  });
  const expiresAt = Math.floor(Date.now() / 1000) + batch.expiresInSec;
  for (const run of runs) {
    const tokens = await mint(batch, run, threads);
    let offset = 0;
    for (const chunk of run) {
      const part = tokens.slice(offset, offset + chunk.count);
      offset += chunk.count;
      found[all.indexOf(chunk)] = part;
      if (chunk.file && options.cacheDir) {
        await mkdir(options.cacheDir, { recursive: true });
        await writeFile(
          `${chunk.file}.tmp`,
          JSON.stringify({ expiresAt, tokens: part } satisfies CachedTokens),
        );
        await rename(`${chunk.file}.tmp`, chunk.file);
      }
    }
  }
  return found.flatMap((part) => part ?? []);
}
