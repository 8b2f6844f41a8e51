import { describe, expect, it } from "vitest";
import { tracesWanted } from "../src/index.ts";

describe("tracesWanted: whether the SDK starts", () => {
  it("when nothing names an exporter or endpoint, then no: a process without telemetry pays nothing", () => {
    expect(tracesWanted({})).toBe(false);
    expect(tracesWanted({ OTEL_SERVICE_NAME: "issue" })).toBe(false);
  });

  it("when an OTLP endpoint is set, then yes, unless the SDK is disabled or the exporter is none", () => {
    expect(tracesWanted({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318" })).toBe(true);
    expect(tracesWanted({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://127.0.0.1:4318/v1/traces" })).toBe(
      true,
    );
    expect(tracesWanted({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://x:4318", OTEL_SDK_DISABLED: "true" })).toBe(
      false,
    );
    expect(tracesWanted({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://x:4318", OTEL_TRACES_EXPORTER: "none" })).toBe(
      false,
    );
  });

  it("when an exporter is named, then yes", () => {
    expect(tracesWanted({ OTEL_TRACES_EXPORTER: "console" })).toBe(true);
    expect(tracesWanted({ OTEL_TRACES_EXPORTER: "otlp" })).toBe(true);
  });
});
