import { createPrivateKey } from "node:crypto";
import { parentPort, workerData } from "node:worker_threads";
import { signRs256, toPublicJwk } from "@coupon/auth";
import type { TokenBatch } from "./tokens.ts";

const batch = workerData as TokenBatch;
const key = createPrivateKey(batch.privateKeyPem);
const { kid } = toPublicJwk(key);
const iat = Math.floor(Date.now() / 1000);
const tokens: string[] = [];
for (let i = 0; i < batch.count; i++) {
  const claims = {
    sub: String(batch.firstUserId + i),
    role: "user",
    iss: batch.issuer,
    aud: batch.audience,
    iat,
    exp: iat + batch.expiresInSec,
  };
  tokens.push(signRs256(claims, key, kid));
}
parentPort?.postMessage(tokens);
