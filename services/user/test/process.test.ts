import { createTestDatabase, type TestDatabase } from "@coupon/db/testing";
import { describeServiceContract } from "@coupon/testing";

let database: TestDatabase | undefined;

describeServiceContract({
  service: "user",
  requiredVariable: "DATABASE_URL",
  validEnv: async () => {
    database ??= await createTestDatabase({ label: "user_process" });
    return { DATABASE_URL: database.url };
  },
  cleanup: async () => database?.drop(),
});
