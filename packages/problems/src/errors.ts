export interface FieldError {
  field: string;
  message: string;
}

/** RFC 9457 problem details, with the original project's error code in `code`. */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  instance?: string;
  errors?: FieldError[];
  [extension: string]: unknown;
}

export interface AppErrorOptions {
  status: number;
  code: string;
  title: string;
  detail?: string;
  errors?: FieldError[];
  headers?: Record<string, string>;
}

export function problemType(code: string): string {
  return `urn:coupon:problem:${code.toLowerCase().replaceAll("_", "-")}`;
}

/** An operational error: expected, rendered to the client as is, never logged as a crash. */
export class AppError extends Error {
  readonly status: number;
  readonly code: string;
  readonly title: string;
  readonly detail: string;
  readonly errors: FieldError[] | undefined;
  readonly headers: Record<string, string>;

  constructor(options: AppErrorOptions) {
    super(options.detail ?? options.title);
    this.name = "AppError";
    this.status = options.status;
    this.code = options.code;
    this.title = options.title;
    this.detail = options.detail ?? options.title;
    this.errors = options.errors;
    this.headers = options.headers ?? {};
  }

  toProblem(instance?: string): ProblemDetails {
    return {
      type: problemType(this.code),
      title: this.title,
      status: this.status,
      detail: this.detail,
      code: this.code,
      ...(instance === undefined ? {} : { instance }),
      ...(this.errors === undefined ? {} : { errors: this.errors }),
    };
  }
}

export class ValidationError extends AppError {
  constructor(errors: FieldError[]) {
    super({
      status: 400,
      code: "VALIDATION_FAILED",
      title: "Request validation failed",
      detail: errors.map((e) => `${e.field}: ${e.message}`).join("; "),
      errors,
    });
  }
}

export class NotFoundError extends AppError {
  constructor(code: string, detail: string) {
    super({ status: 404, code, title: "Not found", detail });
  }
}

/** A dependency is down for a moment: 503 with Retry-After, so clients back off and try again. */
export class ServiceUnavailableError extends AppError {
  constructor(code: string, title: string, detail: string) {
    super({ status: 503, code, title, detail, headers: { "retry-after": "1" } });
  }
}
