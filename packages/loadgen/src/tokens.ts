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

function cacheFile(dir: string, batch: TokenBatch): string {
  const { kid } = toPublicJwk(createPrivateKey(batch.privateKeyPem));
  const id = createHash("sha256")
    .update(JSON.stringify([kid, batch.issuer, batch.audience, batch.firstUserId, batch.count]))
    .digest("hex")
    .slice(0, 16);
  return join(dir, `tokens-${id}.json`);
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

/**
 * Signs one RS256 token per distinct user, on every core (RSA signing is the slow part), and caches
 * them so repeated runs with the same users start at once.
 */
export async function mintTokens(batch: TokenBatch, options: MintOptions = {}): Promise<string[]> {
  const minRemainingSec = options.minRemainingSec ?? 900;
  const file = options.cacheDir ? cacheFile(options.cacheDir, batch) : undefined;
  if (file) {
    const cached = await readCache(file, minRemainingSec);
    if (cached) return cached;
  }
  const threads = Math.max(1, Math.min(options.threads ?? availableParallelism(), batch.count));
  const per = Math.ceil(batch.count / threads);
  const parts = await Promise.all(
    Array.from({ length: threads }, (_, i) =>
      mintRange(batch, i * per, Math.min(per, batch.count - i * per)),
    ),
  );
  const tokens = parts.flat();
  if (file && options.cacheDir) {
    await mkdir(options.cacheDir, { recursive: true });
    const expiresAt = Math.floor(Date.now() / 1000) + batch.expiresInSec;
    await writeFile(`${file}.tmp`, JSON.stringify({ expiresAt, tokens } satisfies CachedTokens));
    await rename(`${file}.tmp`, file);
  }
  return tokens;
}
