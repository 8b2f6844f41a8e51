import type { Server } from "node:http";
import type { Express } from "express";

export function listen(app: Express, port: number, host = "0.0.0.0"): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host, (error?: Error) => (error ? reject(error) : resolve(server)));
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
