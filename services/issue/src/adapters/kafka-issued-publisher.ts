import { CompressionTypes, type Producer } from "kafkajs";
import type { IssuedPublisher } from "./outbox-relay.ts";

/**
 * Publishes issuances keyed by coupon id (one coupon stays in one partition, in order) with
 * acks=all from an idempotent producer, so a retried send cannot duplicate a record in the log.
 */
export function createKafkaIssuedPublisher(producer: Producer, topic: string): IssuedPublisher {
  // Connected on first use and again after a failure, so a broker that is down when the service
  // starts delays publishing instead of preventing the start.
  let connecting: Promise<void> | undefined;
  return {
    async publish(records) {
      connecting ??= producer.connect().catch((error: unknown) => {
        connecting = undefined;
        throw error;
      });
      await connecting;
      await producer.send({
        topic,
        acks: -1,
        compression: CompressionTypes.GZIP,
        messages: records.map(({ record, requestId }) => ({
          key: String(record.couponId),
          value: JSON.stringify(record),
          headers: requestId ? { "x-request-id": requestId } : {},
        })),
      });
    },
  };
}
