// Writes a new RS256 signing key: `node src/commands/generate-signing-key.ts <file.pem>`.
// The file is PKCS#8 PEM, readable by its owner only, for JWT_PRIVATE_KEY_FILE (or a Kubernetes
// Secret); an existing file is never overwritten. Prints the key id (RFC 7638 thumbprint).
import { generateKeyPairSync } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { toPublicJwk } from "@coupon/auth";

const file = process.argv[2];
if (!file) {
  process.stderr.write("usage: generate-signing-key.ts <file.pem>\n");
  process.exit(2);
}
const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
writeFileSync(file, privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600, flag: "wx" });
process.stdout.write(`${toPublicJwk(privateKey).kid}\n`);
