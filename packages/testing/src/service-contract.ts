import { afterAll, describe, expect, it } from "vitest";
import { runServiceToExit, startService } from "./service-process.ts";

export interface ServiceContract {
  service: string;
  /** A complete, valid environment pointing at the test instance's servers. */
  validEnv: () => Promise<Record<string, string>>;
  /** A variable every deployment must set; the service must refuse to start without it. */
  requiredVariable: string;
  cleanup?: () => Promise<void>;
}

/**
 * What every service owes its operators, checked on the real process: it refuses a bad environment
 * with exit 1 and the variable's name, answers its probes, and stops cleanly on SIGTERM.
 */
export function describeServiceContract(contract: ServiceContract): void {
  const { service } = contract;
  describe(`${service} service process`, () => {
    if (contract.cleanup) afterAll(contract.cleanup);

    it("when PORT is not a port number, then it exits 1 naming PORT", async () => {
      const result = await runServiceToExit(service, { ...(await contract.validEnv()), PORT: "eighty" });
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/PORT: .*got "eighty"/);
    });

    it(`when ${contract.requiredVariable} is missing, then it exits 1 naming it`, async () => {
      const env = await contract.validEnv();
      delete env[contract.requiredVariable];
      const result = await runServiceToExit(service, env);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`${contract.requiredVariable}:`);
      expect(result.stderr).toContain("it is not set");
    });

    it("when its dependencies are up, then /healthz and /readyz answer 200, and SIGTERM stops it with 0", async () => {
      const proc = await startService(service, await contract.validEnv());
      try {
        const health = await fetch(`${proc.baseUrl}/healthz`);
        expect(health.status).toBe(200);
        const ready = await fetch(`${proc.baseUrl}/readyz`);
        expect(ready.status, await ready.clone().text()).toBe(200);
        const metrics = await fetch(`${proc.baseUrl}/metrics`);
        expect(await metrics.text()).toContain("nodejs_heap_size_total_bytes");
      } finally {
        const result = await proc.stop("SIGTERM");
        expect(result.code, result.stderr).toBe(0);
        expect(proc.logs().some((line) => line.msg === "shutdown complete")).toBe(true);
      }
    });
  });
}
