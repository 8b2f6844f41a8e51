import { createServer, type Server } from "node:http";
import { env, serviceEnv } from "@coupon/config";
import type { GracefulShutdown } from "@coupon/lifecycle";
import type { Logger } from "@coupon/logging";
import type { HttpApp } from "./app.ts";

/**
 * What a client may hold of the server. Node's defaults let a client that sends its body a byte at
 * a time keep a connection for 300 s, and accept connections without bound.
 */
export interface ServerLimits {
  /** Whole request, headers and body, before Node answers 408 and closes the connection. */
  requestTimeoutMs: number;
  /** Headers alone; at most requestTimeoutMs. */
  headersTimeoutMs: number;
  /**
   * Idle keep-alive connection. Longer than the proxy's own idle timeout in front (nginx's upstream
   * keepalive_timeout is 60 s), so that the proxy, not the service, closes an idle connection:
   * otherwise a request the proxy sends just as the service closes fails with a reset.
   */
  keepAliveTimeoutMs: number;
  /** Open connections per process; Node closes any connection beyond it at once. */
  maxConnections: number;
}

export const DEFAULT_SERVER_LIMITS: ServerLimits = {
  requestTimeoutMs: 10_000,
  headersTimeoutMs: 5_000,
  keepAliveTimeoutMs: 65_000,
  maxConnections: 10_000,
};

const serverLimitsEnv = {
  HTTP_REQUEST_TIMEOUT_MS: env.positiveInt(DEFAULT_SERVER_LIMITS.requestTimeoutMs),
  HTTP_HEADERS_TIMEOUT_MS: env.positiveInt(DEFAULT_SERVER_LIMITS.headersTimeoutMs),
  HTTP_KEEP_ALIVE_TIMEOUT_MS: env.positiveInt(DEFAULT_SERVER_LIMITS.keepAliveTimeoutMs),
  HTTP_MAX_CONNECTIONS: env.positiveInt(DEFAULT_SERVER_LIMITS.maxConnections),
};

/** What every service's config schema starts with: serviceEnv and the limits serve() applies. */
export const httpServiceEnv = { ...serviceEnv, ...serverLimitsEnv };

export interface ServerConfig {
  PORT: number;
  HOST: string;
  HTTP_REQUEST_TIMEOUT_MS: number;
  HTTP_HEADERS_TIMEOUT_MS: number;
  HTTP_KEEP_ALIVE_TIMEOUT_MS: number;
  HTTP_MAX_CONNECTIONS: number;
}

export function serverLimitsOf(config: ServerConfig): ServerLimits {
  return {
    requestTimeoutMs: config.HTTP_REQUEST_TIMEOUT_MS,
    headersTimeoutMs: config.HTTP_HEADERS_TIMEOUT_MS,
    keepAliveTimeoutMs: config.HTTP_KEEP_ALIVE_TIMEOUT_MS,
    maxConnections: config.HTTP_MAX_CONNECTIONS,
  };
}

export function listen(
  app: HttpApp,
  port: number,
  host = "0.0.0.0",
  limits: ServerLimits = DEFAULT_SERVER_LIMITS,
): Promise<Server> {
  if (limits.headersTimeoutMs > limits.requestTimeoutMs) {
    throw new RangeError(
      `the headers timeout (${limits.headersTimeoutMs} ms) must not exceed the request timeout (${limits.requestTimeoutMs} ms)`,
    );
  }
  return new Promise((resolve, reject) => {
    const server = createServer(
      {
        requestTimeout: limits.requestTimeoutMs,
        headersTimeout: limits.headersTimeoutMs,
        keepAliveTimeout: limits.keepAliveTimeoutMs,
        // Node checks the two timeouts above only this often (30 s by default), which would let a
        // slow client overstay a 10 s limit by half a minute.
        connectionsCheckingInterval: Math.min(1_000, limits.headersTimeoutMs),
      },
      app,
    );
    server.maxConnections = limits.maxConnections;
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve(server);
    });
  });
}

/**
 * Stops accepting connections and resolves once in-flight requests have been answered. Idle
 * keep-alive connections are closed at once; busy ones close after their current response.
 */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    server.closeIdleConnections();
  });
}

/**
 * Listens, makes closing the server the first shutdown step (stop accepting, answer what is in
 * flight) and logs the address, which is how tests and operators learn the port.
 */
export async function serve(
  app: HttpApp,
  options: { config: ServerConfig; logger: Logger; shutdown: Pick<GracefulShutdown, "add"> },
): Promise<Server> {
  const { config } = options;
  const server = await listen(app, config.PORT, config.HOST, serverLimitsOf(config));
  options.shutdown.add({ name: "http", run: () => closeServer(server) });
  options.logger.info({ address: server.address() }, "listening");
  return server;
}
