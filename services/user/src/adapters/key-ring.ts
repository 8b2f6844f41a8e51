import { createPrivateKey, createPublicKey, type KeyObject } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type JwkSet, type KeyResolver, type TokenSigningKey, toPublicJwk } from "@coupon/auth";

const MIN_MODULUS_BITS = 2048;

function requireRsa(key: KeyObject): KeyObject {
  if (key.asymmetricKeyType !== "rsa") {
    throw new Error(`expected an RSA key, got ${key.asymmetricKeyType ?? "a symmetric key"}`);
  }
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < MIN_MODULUS_BITS) {
    throw new Error(`expected an RSA key of at least ${MIN_MODULUS_BITS} bits, got ${bits}`);
  }
  return key;
}

/** The signing key from PEM (PKCS#8 or PKCS#1). */
export function parsePrivateKey(pem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch {
    throw new Error("expected a PEM-encoded private key");
  }
  return requireRsa(key);
}

/**
 * The keys to publish besides the signing key: every `*.pem` file in the directory (a mounted
 * Secret's files are links into its `..data` folder, which is followed), public keys or private keys
 * whose public half is taken.
 */
export function readPublishedKeys(dir: string): KeyObject[] {
  const names = readdirSync(dir)
    .filter((name) => name.endsWith(".pem"))
    .sort();
  return names.map((name) => {
    try {
      return requireRsa(createPublicKey(readFileSync(join(dir, name), "utf8")));
    } catch (error) {
      throw new Error(`${name}: ${(error as Error).message}`);
    }
  });
}

/** The signing key and the public keys the JWKS publishes, which are also the keys this service accepts. */
export interface KeyRing extends KeyResolver {
  signingKey: TokenSigningKey;
  jwks: JwkSet;
}

/**
 * Rotation without refused tokens: publish the next key here before it signs, so every verifier's
 * cache holds it by the switch; after the switch keep the old key here until the last token it
 * signed has expired (JWT_EXPIRES_IN_SEC plus clock skew).
 */
export function createKeyRing(signing: KeyObject, published: readonly KeyObject[] = []): KeyRing {
  const active = toPublicJwk(signing);
  const keys = new Map([[active.kid, { jwk: active, key: createPublicKey(signing) }]]);
  for (const key of published) {
    const jwk = toPublicJwk(key);
    if (!keys.has(jwk.kid)) keys.set(jwk.kid, { jwk, key });
  }
  return {
    signingKey: { privateKey: signing, kid: active.kid },
    jwks: { keys: [...keys.values()].map((entry) => entry.jwk) },
    getKey: async (kid) => keys.get(kid)?.key,
  };
}
