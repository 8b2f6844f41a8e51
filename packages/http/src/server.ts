import { createServer, type Server } from "node:http";
import type { GracefulShutdown } from "@coupon/lifecycle";
import type { Logger } from "@coupon/logging";
import type { HttpApp } from "./app.ts";

export function listen(app: HttpApp, port: number, host = "0.0.0.0"): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer(app);
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
  options: { port: number; host: string; logger: Logger; shutdown: Pick<GracefulShutdown, "add"> },
): Promise<Server> {
  const server = await listen(app, options.port, options.host);
  options.shutdown.add({ name: "http", run: () => closeServer(server) });
  options.logger.info({ address: server.address() }, "listening");
  return server;
}
