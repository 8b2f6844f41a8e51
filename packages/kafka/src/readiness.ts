import type { Admin } from "kafkajs";
import { type CreateKafkaOptions, createKafka } from "./client.ts";

export interface KafkaReadiness {
  /** Resolves when the cluster answers a metadata request; connects on first use. */
  check: () => Promise<void>;
  close: () => Promise<void>;
}

/**
 * A readiness probe that does not make Kafka a start-up dependency: a service whose broker is
 * down starts anyway (the issuance API keeps working from Redis) and reports not-ready until the
 * broker answers. It has a client of its own without retries, so that a probe against a dead
 * broker fails within the connection timeout instead of after the client's retry schedule.
 */
export function createKafkaReadiness(options: CreateKafkaOptions): KafkaReadiness {
  const kafka = createKafka({ connectionTimeout: 1000, ...options, retry: { retries: 0 } });
  let admin: Admin | undefined;
  let connecting: Promise<void> | undefined;
  return {
    async check() {
      admin ??= kafka.admin();
      connecting ??= admin.connect().catch((error: unknown) => {
        connecting = undefined;
        throw error;
      });
      await connecting;
      await admin.describeCluster();
    },
    async close() {
      await admin?.disconnect();
    },
  };
}
