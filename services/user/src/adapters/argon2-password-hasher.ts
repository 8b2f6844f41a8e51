import argon2, { type HashOptions } from "argon2";
import type { PasswordHasher } from "../domain/accounts.ts";

/** argon2id cost parameters (RFC 9106); OWASP's minimum is 19 MiB, 2 passes, 1 lane. */
export interface Argon2Parameters {
  memoryKib: number;
  timeCost: number;
  parallelism: number;
}

export function createArgon2PasswordHasher(parameters: Argon2Parameters): PasswordHasher {
  const options: HashOptions = {
    type: argon2.argon2id,
    memoryCost: parameters.memoryKib,
    timeCost: parameters.timeCost,
    parallelism: parameters.parallelism,
  };
  return {
    hash: (password) => argon2.hash(password, options),
    verify: (hash, password) => argon2.verify(hash, password),
    needsRehash: (hash) => argon2.needsRehash(hash, options),
  };
}
