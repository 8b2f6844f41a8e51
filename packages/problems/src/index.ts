export {
  AppError,
  type AppErrorOptions,
  type FieldError,
  NotFoundError,
  type ProblemDetails,
  problemType,
  ServiceUnavailableError,
  ValidationError,
} from "./errors.ts";
export type { ProblemSpec, Problems } from "./problem-spec.ts";
