// ioredis's instrumentation starts a command's span when the command is written, in the context
// active then. With auto-pipelining (packages/redis turns it on) a command is written later, from
// the pipeline that collects it: that pipeline is flushed in the context of whichever caller
// opened it, and the next one from the previous one's reply callback. Without this, under load the
// Redis spans of hundreds of requests end up in the trace of the first one.
//
// A command sent outside any recorded span (a request that is not sampled) is written by ioredis's
// own sendCommand, as if the instrumentation were not there: there is nothing it would record, so
// switching each such command into a context without the span, only for it to make none, was
// work for nothing on every command of nine requests in ten.
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
 * unpatched when the caller's span is not recorded.
 */
function keepCallerContext(ioredis: IORedisModule, unpatchedWrite: SendCommand): void {
  const queue = ioredis.Pipeline.prototype.sendCommand;
  ioredis.Pipeline.prototype.sendCommand = function (command, ...rest) {
    if (isCommand(command)) command[CALLER_CONTEXT] = context.active();
    return queue.call(this, command, ...rest);
  };
  const write = ioredis.prototype.sendCommand;
  ioredis.prototype.sendCommand = function (command, ...rest) {
    const caller = (isCommand(command) ? command[CALLER_CONTEXT] : undefined) ?? context.active();
    if (!trace.getSpan(caller)?.isRecording()) return unpatchedWrite.call(this, command, ...rest);
    return caller === context.active()
      ? write.call(this, command, ...rest)
      : context.with(caller, () => write.call(this, command, ...rest));
  };
}

/** The ioredis instrumentation, with every command's span in the context of the code that sent it. */
export class CallerContextIORedisInstrumentation extends IORedisInstrumentation {
  override init() {
    return super.init().map((definition) => {
      const patch = definition.patch;
      if (patch) {
        definition.patch = (module, version) => {
          const exportsOf = (loaded: typeof module) =>
            (loaded[Symbol.toStringTag] === "Module" ? loaded.default : loaded) as IORedisModule;
          const unpatchedWrite = exportsOf(module).prototype.sendCommand;
          const patched = patch(module, version);
          keepCallerContext(exportsOf(patched), unpatchedWrite);
          return patched;
        };
      }
      return definition;
    });
  }
}
