import { createPrivateKey } from "node:crypto";
import { parentPort, workerData } from "node:worker_threads";
import { accessTokenClaims, signJwt, toPublicJwk } from "@coupon/auth";
import type { TokenBatch } from "./tokens.ts";

const batch = workerData as TokenBatch;
const privateKey = createPrivateKey(batch.privateKeyPem);
const key = { privateKey, kid: toPublicJwk(privateKey).kid };
const terms = { issuer: batch.issuer, audience: batch.audience, expiresInSec: batch.expiresInSec };
const issuedAt = Date.now();
const tokens: string[] = [];
for (let i = 0; i < batch.count; i++) {
  const user = { userId: String(batch.firstUserId + i), role: "user" as const };
  tokens.push(signJwt(accessTokenClaims(user, terms, issuedAt), key));
}
parentPort?.postMessage(tokens);
