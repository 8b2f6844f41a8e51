import { describeServiceContract, testEndpoints } from "@coupon/testing";

describeServiceContract({
  service: "issue",
  requiredVariable: "KAFKA_BROKERS",
  validEnv: async () => ({
    REDIS_URL: testEndpoints().redisUrl,
    KAFKA_BROKERS: testEndpoints().kafkaBrokers.join(","),
    COUPON_SERVICE_URL: "http://127.0.0.1:1",
  }),
});
