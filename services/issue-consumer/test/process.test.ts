import { describeServiceContract } from "@coupon/testing";
import { createTestBed, type TestBed } from "./support.ts";

// Topics and groups of its own: a consumer started on the shared defaults would take records that
// belong to other tests.
let bed: Promise<TestBed> | undefined;

describeServiceContract({
  service: "issue-consumer",
  requiredVariable: "DATABASE_URL",
  validEnv: async () => {
    bed ??= createTestBed("process");
    return { ...(await bed).env };
  },
  cleanup: async () => (await bed)?.dispose(),
});
