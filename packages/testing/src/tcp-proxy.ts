import { createServer, type Server, type Socket, connect as tcpConnect } from "node:net";

/**
 * Forwards a local port to a server (a database, a broker) so that a test can take it away:
 * close() drops every connection and refuses new ones (a server that is down), stall() stops
 * moving bytes on the open ones (a hung server) until resume(); stall("replies") stops only
 * what the server sends, so requests still reach it and its answers do not come back.
 */
export class TcpProxy {
  private readonly target: { host: string; port: number };
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly pairs = new Set<[Socket, Socket]>();
  private stalled: "both" | "replies" | undefined;
  /** Chosen by the first open(), kept by the next ones so that the database URL stays valid. */
  port = 0;

  constructor(target: { host: string; port: number }) {
    this.target = target;
  }

  async open(): Promise<void> {
    const server = createServer((client) => {
      const upstream = tcpConnect(this.target);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on("close", () => this.sockets.delete(socket));
        socket.on("error", () => {
          client.destroy();
          upstream.destroy();
        });
      }
      const pair: [Socket, Socket] = [client, upstream];
      this.pairs.add(pair);
      client.on("close", () => this.pairs.delete(pair));
      // A hung server still completes TCP handshakes (the kernel does), but answers nothing.
      if (this.stalled === "both") client.pause();
      else client.pipe(upstream);
      if (this.stalled) upstream.pause();
      else upstream.pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.port, "127.0.0.1", () => resolve());
    });
    this.port = (server.address() as { port: number }).port;
    this.server = server;
  }

  /** Unpiped, not just paused: a pipe resumes its source whenever the destination drains. */
  stall(which: "both" | "replies" = "both"): void {
    this.resume();
    this.stalled = which;
    for (const [client, upstream] of this.pairs) {
      if (which === "both") {
        client.unpipe(upstream);
        client.pause();
      }
      upstream.unpipe(client);
      upstream.pause();
    }
  }

  resume(): void {
    const was = this.stalled;
    this.stalled = undefined;
    if (!was) return;
    for (const [client, upstream] of this.pairs) {
      if (was === "both") client.pipe(upstream);
      upstream.pipe(client);
    }
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  }
}
