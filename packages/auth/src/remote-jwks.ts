import type { KeyObject } from "node:crypto";
import { importPublicJwk, type PublicJwk } from "./jwk.ts";

/** Where the verifier finds the public key a token names; undefined when no such key is published. */
export interface KeyResolver {
  getKey(kid: string): Promise<KeyObject | undefined>;
}

export class JwksUnavailableError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "JwksUnavailableError";
  }
}

export interface RemoteJwksOptions {
  url: string;
  /** After this age the set is refreshed in the background while the cached keys keep serving. */
  maxAgeMs?: number;
  /** An unknown kid triggers a refresh at most this often, so forged kids cannot flood the issuer. */
  minRefreshIntervalMs?: number;
  timeoutMs?: number;
  fetch?: typeof fetch;
  now?: () => number;
}

/**
 * The user service's JWKS, fetched once and cached. A token signed with a key published after the
 * last fetch (a rotation) makes it refetch at once; a kid that is still unknown after that is refused.
 *
 * Not jwks-rsa, whose client caches each kid apart: once an entry is older than its max age the next
 * token waits for a fetch (and is refused while the issuer is unreachable), where this keeps serving
 * the known keys and refreshes behind them; it fetches once for every distinct unknown kid (up to its
 * rate limit, 10 a minute by default), where this fetches at most once per interval whatever the
 * kids; and it hands out PEM strings, which jsonwebtoken would parse again on every verification.
 */
export function createRemoteJwks(options: RemoteJwksOptions): KeyResolver & { refresh(): Promise<void> } {
  const maxAgeMs = options.maxAgeMs ?? 5 * 60_000;
  const minRefreshIntervalMs = options.minRefreshIntervalMs ?? 10_000;
  const timeoutMs = options.timeoutMs ?? 2_000;
  const doFetch = options.fetch ?? fetch;
  const now = options.now ?? Date.now;

  let keys = new Map<string, KeyObject>();
  let fetchedAt: number | undefined;
  let attemptedAt = Number.NEGATIVE_INFINITY;
  let inflight: Promise<void> | undefined;

  async function load(): Promise<void> {
    attemptedAt = now();
    let body: unknown;
    try {
      const res = await doFetch(options.url, {
        signal: AbortSignal.timeout(timeoutMs),
        headers: { accept: "application/json" },
      });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      body = await res.json();
    } catch (error) {
      throw new JwksUnavailableError(
        `cannot fetch the JWKS from ${options.url}: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
    const entries = (body as { keys?: unknown }).keys;
    if (!Array.isArray(entries)) throw new JwksUnavailableError(`${options.url} did not return a JWK set`);
    const next = new Map<string, KeyObject>();
    for (const jwk of entries as Partial<PublicJwk>[]) {
      const key = typeof jwk.kid === "string" ? importPublicJwk(jwk) : null;
      if (key && jwk.kid) next.set(jwk.kid, key);
    }
    keys = next;
    fetchedAt = now();
  }

  function refresh(): Promise<void> {
    inflight ??= load().finally(() => {
      inflight = undefined;
    });
    return inflight;
  }

  return {
    refresh,
    async getKey(kid) {
      const known = keys.get(kid);
      if (known) {
        if (fetchedAt !== undefined && now() - fetchedAt > maxAgeMs) refresh().catch(() => {});
        return known;
      }
      if (inflight || now() - attemptedAt >= minRefreshIntervalMs) {
        try {
          await refresh();
        } catch (error) {
          if (fetchedAt === undefined) throw error;
          return undefined;
        }
        return keys.get(kid);
      }
      if (fetchedAt === undefined)
        throw new JwksUnavailableError(`the JWKS at ${options.url} is unavailable`);
      return undefined;
    },
  };
}
