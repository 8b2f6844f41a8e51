import { createTestDatabase, type TestDatabase } from "@coupon/db/testing";
import { describeServiceContract, testEndpoints } from "@coupon/testing";

let database: TestDatabase | undefined;

describeServiceContract({
  service: "issue-consumer",
  requiredVariable: "DATABASE_URL",
  validEnv: async () => {
    database ??= await createTestDatabase({ label: "consumer_process" });
    return { DATABASE_URL: database.url, KAFKA_BROKERS: testEndpoints().kafkaBrokers.join(",") };
  },
  cleanup: async () => database?.drop(),
});
