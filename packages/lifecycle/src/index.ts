import { createLogger, type Logger, type LogLevel } from "@coupon/logging";

/** One thing to close on the way out, in order: the HTTP server, Kafka, Redis, the database… */
export interface ShutdownStep {
  name: string;
  run: () => Promise<unknown> | unknown;
}

export interface GracefulShutdownOptions {
  logger: Logger;
  /** Hard limit for the whole shutdown; keep it below the pod's terminationGracePeriodSeconds. */
  deadlineMs: number;
  /**
   * Time between turning not-ready and closing anything, so that load balancers notice the
   * failing readiness probe and stop routing here before connections are refused.
   */
  drainDelayMs?: number;
  exit?: (code: number) => void;
}

export interface GracefulShutdown {
  /** Registers what to close; steps run in the order they were added. */
  add(step: ShutdownStep): void;
  /** False from the moment shutdown begins: /readyz answers 503 from then on. */
  isAccepting(): boolean;
  begin(reason: string): Promise<void>;
  /** Runs begin() on SIGTERM and SIGINT. */
  listen(signals?: NodeJS.Signals[]): void;
}

export function createGracefulShutdown(options: GracefulShutdownOptions): GracefulShutdown {
  const { logger, deadlineMs, drainDelayMs = 0 } = options;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const steps: ShutdownStep[] = [];
  let accepting = true;
  let running: Promise<void> | undefined;

  async function run(reason: string): Promise<void> {
    accepting = false;
    logger.info({ reason, deadline_ms: deadlineMs }, "shutdown started");
    const deadline = setTimeout(() => {
      logger.error({ deadline_ms: deadlineMs }, "shutdown deadline exceeded, exiting");
      exit(1);
    }, deadlineMs);
    deadline.unref();

    if (drainDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, drainDelayMs));
    let failed = false;
    for (const step of steps) {
      try {
        await step.run();
        logger.info({ step: step.name }, "shutdown step done");
      } catch (error) {
        failed = true;
        logger.error({ step: step.name, err: error }, "shutdown step failed");
      }
    }
    clearTimeout(deadline);
    logger.info({ failed }, "shutdown complete");
    exit(failed ? 1 : 0);
  }

  return {
    add: (step) => {
      steps.push(step);
    },
    isAccepting: () => accepting,
    begin: (reason) => {
      running ??= run(reason);
      return running;
    },
    listen(signals = ["SIGTERM", "SIGINT"]) {
      for (const signal of signals) process.on(signal, () => void this.begin(signal));
    },
  };
}

/** The variables of serviceEnv (packages/config) that the runtime of a service needs. */
export interface RuntimeConfig {
  LOG_LEVEL: LogLevel;
  SHUTDOWN_DEADLINE_MS: number;
  SHUTDOWN_DRAIN_DELAY_MS: number;
}

/**
 * After an error nothing caught, the process's state is unknown: a graceful shutdown could hang
 * on it. The error is logged as one fatal JSON line, like every other line, and the process exits
 * with 1 so that the orchestrator restarts it.
 */
export function exitOnCrash(
  logger: Logger,
  exit: (code: number) => void = (code) => process.exit(code),
): void {
  process.on("uncaughtException", (error, origin) => {
    logger.fatal({ err: error, origin }, "crashed: an exception nothing caught");
    exit(1);
  });
  process.on("unhandledRejection", (reason) => {
    logger.fatal({ err: reason }, "crashed: a rejection nothing handled");
    exit(1);
  });
}

/** The logger, the crash handlers and the signal-driven shutdown every long-running process starts with. */
export function createServiceRuntime(
  service: string,
  config: RuntimeConfig,
): { logger: Logger; shutdown: GracefulShutdown } {
  const logger = createLogger({ service, level: config.LOG_LEVEL });
  const shutdown = createGracefulShutdown({
    logger,
    deadlineMs: config.SHUTDOWN_DEADLINE_MS,
    drainDelayMs: config.SHUTDOWN_DRAIN_DELAY_MS,
  });
  shutdown.listen();
  exitOnCrash(logger);
  return { logger, shutdown };
}
