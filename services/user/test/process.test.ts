import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestDatabase, type TestDatabase } from "@coupon/db/testing";
import { describeServiceContract, testEndpoints } from "@coupon/testing";

let database: TestDatabase | undefined;
let keyDir: string | undefined;

describeServiceContract({
  service: "user",
  requiredVariable: "JWT_PRIVATE_KEY_FILE",
  validEnv: async () => {
    database ??= await createTestDatabase({
      serverUrl: testEndpoints().databaseServerUrl,
      label: "user_process",
    });
    if (!keyDir) {
      keyDir = mkdtempSync(join(tmpdir(), "user-process-"));
      const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
      writeFileSync(join(keyDir, "signing.pem"), privateKey.export({ type: "pkcs8", format: "pem" }));
    }
    return {
      DATABASE_URL: database.url,
      REDIS_URL: testEndpoints().redisUrl,
      JWT_PRIVATE_KEY_FILE: join(keyDir, "signing.pem"),
    };
  },
  cleanup: async () => {
    if (keyDir) rmSync(keyDir, { recursive: true, force: true });
    await database?.drop();
  },
});
