import { randomUUID } from "node:crypto";
import { startTestTokenIssuer, type TestTokenIssuer } from "@coupon/auth/testing";
import { createTestDatabase, type TestDatabase } from "@coupon/db/testing";
import { describeServiceContract, testEndpoints } from "@coupon/testing";

let database: TestDatabase | undefined;
let issuer: TestTokenIssuer | undefined;

describeServiceContract({
  service: "coupon",
  requiredVariable: "DATABASE_URL",
  validEnv: async () => {
    database ??= await createTestDatabase({
      serverUrl: testEndpoints().databaseServerUrl,
      label: "coupon_process",
    });
    issuer ??= await startTestTokenIssuer();
    return {
      DATABASE_URL: database.url,
      REDIS_URL: testEndpoints().redisUrl,
      // The write-back lease of each process started here stays out of other test files' way.
      REDIS_KEY_PREFIX: `test:coupon-process:${randomUUID()}:`,
      JWT_JWKS_URL: issuer.jwksUrl,
    };
  },
  cleanup: async () => {
    await issuer?.close();
    await database?.drop();
  },
});
