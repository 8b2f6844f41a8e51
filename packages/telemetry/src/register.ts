// node --import @coupon/telemetry/register src/server.ts: the loader hook and the SDK are in place
// before the app's modules are loaded, which is when the instrumentations patch them. Without an
// exporter configured (see tracesWanted) nothing is registered at all.
import { register } from "import-in-the-middle/register-hooks.mjs";
import { INSTRUMENTED_MODULES, startTelemetry, tracesWanted } from "./index.ts";

if (tracesWanted()) {
  register({ include: INSTRUMENTED_MODULES });
  startTelemetry();
}
