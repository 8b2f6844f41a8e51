import type { Server } from "node:http";
import { connect, type Socket } from "node:net";
import { createLogger } from "@coupon/logging";
import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { closeServer, createHttpApp, listen, type ServerLimits } from "../src/index.ts";

const limits: ServerLimits = {
  requestTimeoutMs: 800,
  headersTimeoutMs: 400,
  keepAliveTimeoutMs: 300,
  maxConnections: 2,
};

let server: Server | undefined;
const sockets: Socket[] = [];

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  if (server) await closeServer(server);
  server = undefined;
});

async function start(): Promise<number> {
  const app = createHttpApp({
    service: "limits-test",
    logger: createLogger({ service: "limits-test", level: "silent" }),
    registry: new Registry(),
    routes: (router) => router.post("/echo", (req, res) => res.json(req.body)),
  });
  server = await listen(app, 0, "127.0.0.1", limits);
  return (server.address() as { port: number }).port;
}

/** Opens a raw connection and collects what the server sends until it closes the connection. */
function open(
  port: number,
): Promise<{ socket: Socket; closed: Promise<{ received: string; afterMs: number }> }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = connect(port, "127.0.0.1");
    sockets.push(socket);
    let received = "";
    socket.on("data", (chunk) => {
      received += chunk.toString();
    });
    const closed = new Promise<{ received: string; afterMs: number }>((done) =>
      socket.on("close", () => done({ received, afterMs: Date.now() - started })),
    );
    socket.once("connect", () => resolve({ socket, closed }));
    socket.once("error", reject);
  });
}

describe("server limits: what a slow or greedy client can hold", () => {
  it("when a body never completes, then the server answers 408 and closes within the request timeout", async () => {
    const port = await start();
    const { socket, closed } = await open(port);
    socket.write(
      "POST /echo HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{",
    );
    const drip = setInterval(() => socket.write(" "), 100);

    const { received, afterMs } = await closed;
    clearInterval(drip);

    expect(received).toMatch(/^HTTP\/1\.1 408 /);
    expect(afterMs).toBeLessThan(limits.requestTimeoutMs + 2_000);
  });

  it("when the headers never complete, then the server answers 408 and closes within the headers timeout", async () => {
    const port = await start();
    const { socket, closed } = await open(port);
    socket.write("GET /healthz HTTP/1.1\r\nhost: x\r\n");

    const { received, afterMs } = await closed;

    expect(received).toMatch(/^HTTP\/1\.1 408 /);
    expect(afterMs).toBeLessThan(limits.headersTimeoutMs + 2_000);
  });

  it("when a kept-alive connection idles past the keep-alive timeout, then the server closes it", async () => {
    const port = await start();
    const { socket, closed } = await open(port);
    socket.write("GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n");

    const { received, afterMs } = await closed;

    expect(received).toMatch(/^HTTP\/1\.1 200 /);
    expect(afterMs).toBeLessThan(limits.keepAliveTimeoutMs + 2_000);
  });

  it("when more connections open than the cap, then the extra one is closed unanswered and the others are served", async () => {
    const port = await start();
    const held = [await open(port), await open(port)];
    await new Promise((settle) => setTimeout(settle, 50));

    const extra = await open(port);
    extra.socket.write("GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n");
    const { received } = await extra.closed;

    expect(received).toBe("");
    for (const { socket, closed } of held) {
      socket.write("GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n");
      expect((await closed).received).toMatch(/^HTTP\/1\.1 200 /);
    }
  });

  it("when the headers timeout exceeds the request timeout, then listening is refused, naming both", () => {
    const app = createHttpApp({
      service: "limits-test",
      logger: createLogger({ service: "limits-test", level: "silent" }),
      registry: new Registry(),
    });
    expect(() => listen(app, 0, "127.0.0.1", { ...limits, headersTimeoutMs: 900 })).toThrow(
      /headers timeout \(900 ms\) must not exceed the request timeout \(800 ms\)/,
    );
  });
});
