import { type KeyObject, sign, verify } from "node:crypto";

export interface JwtClaims {
  sub: string;
  role: string;
  iss: string;
  aud: string | string[];
  iat: number;
  exp: number;
  nbf?: number;
  jti?: string;
}

export interface JwtHeader {
  alg: string;
  typ?: string;
  kid?: string;
}

const encode = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString("base64url");

/** Signs claims as an RS256 JWT whose header names the key. */
export function signRs256(claims: JwtClaims, privateKey: KeyObject, kid: string): string {
  const signingInput = `${encode({ alg: "RS256", typ: "JWT", kid })}.${encode(claims)}`;
  const signature = sign("RSA-SHA256", Buffer.from(signingInput), privateKey).toString("base64url");
  return `${signingInput}.${signature}`;
}

export interface DecodedJwt {
  header: JwtHeader;
  /** Unverified until checkSignature has passed. */
  payload: Record<string, unknown>;
  signingInput: string;
  signature: Buffer;
}

const BASE64URL = /^[A-Za-z0-9_-]*$/;

function parseJsonObject(part: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** Splits and parses a compact JWS; undefined when it is not one. Verifies nothing. */
export function decodeJwt(token: string): DecodedJwt | undefined {
  const parts = token.split(".");
  if (parts.length !== 3) return undefined;
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  if (!BASE64URL.test(headerPart) || !BASE64URL.test(payloadPart) || !BASE64URL.test(signaturePart)) {
    return undefined;
  }
  const header = parseJsonObject(headerPart);
  const payload = parseJsonObject(payloadPart);
  if (!header || !payload || typeof header.alg !== "string") return undefined;
  return {
    header: header as unknown as JwtHeader,
    payload,
    signingInput: `${headerPart}.${payloadPart}`,
    signature: Buffer.from(signaturePart, "base64url"),
  };
}

export function checkRs256Signature(decoded: DecodedJwt, publicKey: KeyObject): boolean {
  return verify("RSA-SHA256", Buffer.from(decoded.signingInput), publicKey, decoded.signature);
}
