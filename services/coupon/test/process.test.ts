import { createTestDatabase, type TestDatabase } from "@coupon/db/testing";
import { describeServiceContract, testEndpoints } from "@coupon/testing";

let database: TestDatabase | undefined;

describeServiceContract({
  service: "coupon",
  requiredVariable: "DATABASE_URL",
  validEnv: async () => {
    database ??= await createTestDatabase({ label: "coupon_process" });
    return { DATABASE_URL: database.url, REDIS_URL: testEndpoints().redisUrl };
  },
  cleanup: async () => database?.drop(),
});
