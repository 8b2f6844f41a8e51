import { linkTo, untraced } from "@coupon/telemetry";
import { SpanStatusCode, trace } from "@opentelemetry/api";
import { CompressionTypes, type Producer } from "kafkajs";
import type { IssuedPublisher } from "./outbox-relay.ts";

/**
 * Publishes issuances keyed by coupon id (one coupon stays in one partition, in order) with
 * acks=all from an idempotent producer, so a retried send cannot duplicate a record in the log.
 * Each batch is one span, linked to the requests that accepted its records; kafkajs's
 * instrumentation would add a span per record to it, as many spans again as the requests made,
 * saying nothing the batch's span and its links do not.
 */
const tracer = trace.getTracer("@coupon/issue-service/outbox-relay");

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
      await tracer.startActiveSpan(`publish ${topic}`, async (span) => {
        // A link per record is only worth building for a batch that is sampled.
        if (span.isRecording()) span.addLinks(records.flatMap(({ traceparent }) => linkTo(traceparent)));
        try {
          await untraced(() => send(records));
        } catch (error) {
          span.recordException(error as Error);
          span.setStatus({ code: SpanStatusCode.ERROR });
          throw error;
        } finally {
          span.end();
        }
      });
    },
  };

  async function send(records: Parameters<IssuedPublisher["publish"]>[0]): Promise<void> {
    await producer.send({
      topic,
      acks: -1,
      compression: CompressionTypes.GZIP,
      messages: records.map(({ record, requestId, traceparent }) => ({
        key: String(record.couponId),
        value: JSON.stringify(record),
        headers: {
          ...(requestId ? { "x-request-id": requestId } : {}),
          // The accepting request's, not the relay's: one record, one request (see @coupon/telemetry).
          ...(traceparent ? { traceparent } : {}),
        },
      })),
    });
  }
}
