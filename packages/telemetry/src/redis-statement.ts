// What a Redis command's span records as db.query.text. The default serializer keeps every
// argument of EVAL and EVALSHA, which for our scripts are a user's id, a request id and a
// traceparent on every issuance: data a trace backend should not hold, and the longest attribute
// of each exported span. A script's keys say what it touched; its arguments are left out.
import { defaultDbStatementSerializer } from "@opentelemetry/redis-common";

const SCRIPT_CALL = /^(eval|evalsha|eval_ro|evalsha_ro|fcall|fcall_ro)$/i;

type Argument = string | Buffer | number | unknown[];

export function redisStatement(command: string, args: Argument[]): string {
  if (!SCRIPT_CALL.test(command)) return defaultDbStatementSerializer(command, args);
  const [script, numKeys, ...rest] = args;
  const keys = rest.slice(0, Math.max(0, Number(numKeys) || 0));
  const others = rest.length - keys.length;
  const shown = [command, script, numKeys, ...keys].filter((part) => part !== undefined).join(" ");
  return others > 0 ? `${shown} [${others} other arguments]` : shown;
}
