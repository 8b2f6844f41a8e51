import { startTestTokenIssuer, type TestTokenIssuer } from "@coupon/auth/testing";
import { describeServiceContract, testEndpoints } from "@coupon/testing";

let tokens: TestTokenIssuer | undefined;

describeServiceContract({
  service: "issue",
  requiredVariable: "KAFKA_BROKERS",
  validEnv: async () => {
    tokens ??= await startTestTokenIssuer();
    return {
      REDIS_URL: testEndpoints().redisUrl,
      KAFKA_BROKERS: testEndpoints().kafkaBrokers.join(","),
      COUPON_SERVICE_URL: "http://127.0.0.1:1",
      JWT_JWKS_URL: tokens.jwksUrl,
    };
  },
  cleanup: async () => tokens?.close(),
});
