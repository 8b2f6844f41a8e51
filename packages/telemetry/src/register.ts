// node --import @coupon/telemetry/register src/server.ts: the loader hook and the SDK are in place
// before the app's modules are loaded, which is when the instrumentations patch them. Without an
// exporter configured (see tracesWanted) nothing is registered, and the SDK is not even loaded.
import { register } from "import-in-the-middle/register-hooks.mjs";
import { tracesWanted } from "./index.ts";

if (tracesWanted()) {
  const { INSTRUMENTED_MODULES, startTelemetry } = await import("./sdk.ts");
  register({ include: INSTRUMENTED_MODULES });
  startTelemetry();
}
