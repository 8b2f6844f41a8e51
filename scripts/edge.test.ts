import { execFile } from "node:child_process";
import { createServer, type Server } from "node:http";
import { connect } from "node:net";
import { resolve } from "node:path";
import { promisify } from "node:util";
import { repoRoot } from "@coupon/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// The edge's own answers, on an instance and ports of its own (31000+). The user upstream is a
// plain server that echoes, so a service's answer can be told apart from nginx's; nothing listens
// on the coupon and issue ports.
const ports = { edge: 31080, user: 31081, coupon: 31082, issue: 31083 };
const env = {
  ...process.env,
  INFRA_INSTANCE: "edge-test",
  INFRA_PORT_BASE: "31000",
  EDGE_PORT: String(ports.edge),
  USER_PORT: String(ports.user),
  COUPON_PORT: String(ports.coupon),
  ISSUE_PORT: String(ports.issue),
};
const edge = (command: string) =>
  promisify(execFile)(resolve(repoRoot, "scripts/edge.sh"), [command], { env, timeout: 60_000 });
const base = `http://127.0.0.1:${ports.edge}`;

let upstream: Server;

beforeAll(async () => {
  upstream = createServer((req, res) => {
    res.writeHead(req.url === "/users/teapot" ? 418 : 200, { "content-type": "application/json" });
    res.end(JSON.stringify({ upstream: true, url: req.url }));
  });
  await new Promise<void>((ready) => upstream.listen(ports.user, "127.0.0.1", ready));
  await edge("start");
});

afterAll(async () => {
  await edge("stop");
  await new Promise((closed) => upstream.close(closed));
});

async function problemOf(res: Response) {
  expect(res.headers.get("content-type")).toBe("application/problem+json");
  return (await res.json()) as { status: number; code: string };
}

/** Sends bytes as they are (fetch would refuse a malformed request) and returns the status line and body. */
function raw(request: string): Promise<{ status: number; contentType: string | undefined; body: string }> {
  return new Promise((done, fail) => {
    const socket = connect(ports.edge, "127.0.0.1", () => socket.end(request));
    let received = "";
    socket.on("data", (chunk) => {
      received += chunk.toString();
    });
    socket.on("error", fail);
    socket.on("close", () => {
      const [head = "", body = ""] = received.split("\r\n\r\n");
      done({
        status: Number(head.split(" ")[1]),
        contentType: /content-type: ([^\r]+)/i.exec(head)?.[1],
        body,
      });
    });
  });
}

describe("the local edge's own answers are problem+json", () => {
  it("when a service answers, even with an error status, then its answer passes untouched", async () => {
    const ok = await fetch(`${base}/users/anything`);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ upstream: true, url: "/users/anything" });

    const teapot = await fetch(`${base}/users/teapot`);
    expect(teapot.status).toBe(418);
    expect(await teapot.json()).toMatchObject({ upstream: true });
  });

  it("when the body is over 64 KiB, then 413 PAYLOAD_TOO_LARGE", async () => {
    const res = await fetch(`${base}/users/sign-up`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ padding: "x".repeat(70 * 1024) }),
    });
    expect(res.status).toBe(413);
    expect(await problemOf(res)).toMatchObject({ status: 413, code: "PAYLOAD_TOO_LARGE" });
  });

  it("when a header is over 16 KiB, then 431 HEADERS_TOO_LARGE", async () => {
    const res = await fetch(`${base}/users/me`, { headers: { cookie: "c".repeat(20 * 1024) } });
    expect(res.status).toBe(431);
    expect(await problemOf(res)).toMatchObject({ status: 431, code: "HEADERS_TOO_LARGE" });
  });

  it("when the request line is over 16 KiB, then 414 URI_TOO_LONG", async () => {
    const res = await fetch(`${base}/users/${"u".repeat(20 * 1024)}`);
    expect(res.status).toBe(414);
    expect(await problemOf(res)).toMatchObject({ status: 414, code: "URI_TOO_LONG" });
  });

  it("when the request is not HTTP, then 400 BAD_REQUEST", async () => {
    const res = await raw("GET /users/me HTTP/1.1\r\nno colon here\r\n\r\n");
    expect(res.status).toBe(400);
    expect(res.contentType).toBe("application/problem+json");
    expect(JSON.parse(res.body)).toMatchObject({ status: 400, code: "BAD_REQUEST" });
  });

  it("when the service behind a route is down, then 503 SERVICE_UNAVAILABLE", async () => {
    const res = await fetch(`${base}/coupons/1`);
    expect(res.status).toBe(503);
    expect(await problemOf(res)).toMatchObject({ status: 503, code: "SERVICE_UNAVAILABLE" });
  });

  it("when no route matches, then 404 ROUTE_NOT_FOUND", async () => {
    const res = await fetch(`${base}/nowhere`);
    expect(res.status).toBe(404);
    expect(await problemOf(res)).toMatchObject({ status: 404, code: "ROUTE_NOT_FOUND" });
  });
});
