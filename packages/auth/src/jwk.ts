import { createHash, createPublicKey, type JsonWebKey, type KeyObject } from "node:crypto";

export interface PublicJwk {
  kty: "RSA";
  n: string;
  e: string;
  kid: string;
  alg: "RS256";
  use: "sig";
}

export interface JwkSet {
  keys: PublicJwk[];
}

/** RFC 7638 thumbprint: the key id is derived from the key, so it can never point at another key. */
export function rsaThumbprint(n: string, e: string): string {
  return createHash("sha256")
    .update(JSON.stringify({ e, kty: "RSA", n }))
    .digest("base64url");
}

/** The public half of an RSA key (private or public KeyObject) as a JWK with its thumbprint as kid. */
export function toPublicJwk(key: KeyObject): PublicJwk {
  const publicKey = key.type === "private" ? createPublicKey(key) : key;
  if (publicKey.asymmetricKeyType !== "rsa") throw new Error("only RSA keys can sign RS256 tokens");
  const { n, e } = publicKey.export({ format: "jwk" }) as JsonWebKey;
  if (!n || !e) throw new Error("RSA key without modulus or exponent");
  return { kty: "RSA", n, e, kid: rsaThumbprint(n, e), alg: "RS256", use: "sig" };
}

/** Builds the verification key for a JWK published by the user service; null for unusable entries. */
export function importPublicJwk(jwk: Partial<PublicJwk>): KeyObject | null {
  if (jwk.kty !== "RSA" || typeof jwk.n !== "string" || typeof jwk.e !== "string") return null;
  if (jwk.alg !== undefined && jwk.alg !== "RS256") return null;
  if (jwk.use !== undefined && jwk.use !== "sig") return null;
  try {
    return createPublicKey({ key: { kty: "RSA", n: jwk.n, e: jwk.e }, format: "jwk" });
  } catch {
    return null;
  }
}
