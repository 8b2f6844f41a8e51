import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { type AccessTokenClaims, accessTokenClaims, type Role } from "./claims.ts";
import { type PublicJwk, toPublicJwk } from "./jwk.ts";
import { signJwt } from "./jwt.ts";

export const TEST_ISSUER = "coupon-user-service";
export const TEST_AUDIENCE = "coupon-platform";

export interface SigningKey {
  privateKey: KeyObject;
  jwk: PublicJwk;
}

export function generateSigningKey(): SigningKey {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return { privateKey, jwk: toPublicJwk(privateKey) };
}

export interface TokenOptions {
  sub: string;
  role?: Role;
  expiresInSec?: number;
  /**
   * Claims to override or add, e.g. a wrong `aud` for an attack test. jsonwebtoken refuses to sign
   * an `exp`, `iat` or `nbf` that is not a number, so such tokens must be put together by the test.
   */
  claims?: Partial<Record<keyof AccessTokenClaims, unknown>> & Record<string, unknown>;
  key?: SigningKey;
}

/**
 * A stand-in for the user service in other services' tests: real RS256 keys, a real JWKS served
 * over HTTP on a loopback port, and tokens signed like the user service signs them.
 */
export interface TestTokenIssuer {
  jwksUrl: string;
  issuer: string;
  audience: string;
  activeKey: () => SigningKey;
  token: (options: TokenOptions) => string;
  /** Publishes a new key and signs with it from now on; the old key stays published. */
  rotate: () => SigningKey;
  /** Removes a key from the JWKS. */
  unpublish: (kid: string) => void;
  jwksRequests: () => number;
  close: () => Promise<void>;
}

export async function startTestTokenIssuer(): Promise<TestTokenIssuer> {
  const keys: SigningKey[] = [generateSigningKey()];
  let requests = 0;
  const server: Server = createServer((req, res) => {
    if (req.url !== "/.well-known/jwks.json") {
      res.writeHead(404).end();
      return;
    }
    requests++;
    res
      .writeHead(200, { "content-type": "application/json" })
      .end(JSON.stringify({ keys: keys.map((k) => k.jwk) }));
  });
  await new Promise<void>((ready) => server.listen(0, "127.0.0.1", ready));
  const { port } = server.address() as AddressInfo;
  const activeKey = () => keys[keys.length - 1] as SigningKey;

  return {
    jwksUrl: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    issuer: TEST_ISSUER,
    audience: TEST_AUDIENCE,
    activeKey,
    token({ sub, role = "user", expiresInSec = 1800, claims = {}, key = activeKey() }) {
      const terms = { issuer: TEST_ISSUER, audience: TEST_AUDIENCE, expiresInSec };
      return signJwt(
        { ...accessTokenClaims({ userId: sub, role }, terms, Date.now()), ...claims },
        { privateKey: key.privateKey, kid: key.jwk.kid },
      );
    },
    rotate() {
      const key = generateSigningKey();
      keys.push(key);
      return key;
    },
    unpublish(kid) {
      const index = keys.findIndex((k) => k.jwk.kid === kid);
      if (index >= 0) keys.splice(index, 1);
    },
    jwksRequests: () => requests,
    close: () =>
      new Promise((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}
