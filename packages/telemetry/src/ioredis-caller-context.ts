// ioredis's instrumentation starts a command's span when the command is written, in the context
// active then. With auto-pipelining (packages/redis turns it on) a command is written later, from
// the pipeline that collects it: that pipeline is flushed in the context of whichever caller
// opened it, and the next one from the previous one's reply callback. Without this, under load the
// Redis spans of hundreds of requests end up in the trace of the first one.
//
// A command of a request that is not sampled is written with no span active at all: the
// instrumentation then skips it (requireParentSpan) instead of serialising its statement and
// making a span nobody records.
import { type Context, context, trace } from "@opentelemetry/api";
import { IORedisInstrumentation } from "@opentelemetry/instrumentation-ioredis";

const CALLER_CONTEXT = Symbol("coupon.telemetry.callerContext");

type Command = { [CALLER_CONTEXT]?: Context };
type SendCommand = (this: unknown, command: Command, ...rest: unknown[]) => unknown;
interface IORedisModule {
  prototype: { sendCommand: SendCommand };
  Pipeline: { prototype: { sendCommand: SendCommand } };
}

const isCommand = (command: unknown): command is Command => typeof command === "object" && command !== null;

/**
 * Remembers each command's context when it is queued on a pipeline (the caller's), and writes it
 * in that context, so the instrumentation's span (around the write) is the caller's child; or
 * without a span when the caller's is not recorded.
 */
function keepCallerContext(ioredis: IORedisModule): void {
  const queue = ioredis.Pipeline.prototype.sendCommand;
  ioredis.Pipeline.prototype.sendCommand = function (command, ...rest) {
    if (isCommand(command)) command[CALLER_CONTEXT] = context.active();
    return queue.call(this, command, ...rest);
  };
  const write = ioredis.prototype.sendCommand;
  ioredis.prototype.sendCommand = function (command, ...rest) {
    const caller = (isCommand(command) ? command[CALLER_CONTEXT] : undefined) ?? context.active();
    const span = trace.getSpan(caller);
    const writeIn = span && !span.isRecording() ? trace.deleteSpan(caller) : caller;
    return writeIn === context.active()
      ? write.call(this, command, ...rest)
      : context.with(writeIn, () => write.call(this, command, ...rest));
  };
}

/** The ioredis instrumentation, with every command's span in the context of the code that sent it. */
export class CallerContextIORedisInstrumentation extends IORedisInstrumentation {
  override init() {
    return super.init().map((definition) => {
      const patch = definition.patch;
      if (patch) {
        definition.patch = (module, version) => {
          const patched = patch(module, version);
          const exports = (
            patched[Symbol.toStringTag] === "Module" ? patched.default : patched
          ) as IORedisModule;
          keepCallerContext(exports);
          return patched;
        };
      }
      return definition;
    });
  }
}
