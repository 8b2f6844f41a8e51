import { connect } from "node:net";
import { Writable } from "node:stream";
import { createLogger } from "@coupon/logging";
import { Registry } from "prom-client";
import request from "supertest";
import { afterEach, describe, expect, it } from "vitest";
import { closeServer, createHttpApp, type JsonRoute, listen } from "../src/index.ts";
import { parseJsonBody, plainJsonBodyLength } from "../src/json-route.ts";

describe("plainJsonBodyLength: which requests the direct path takes", () => {
  const json = { "content-type": "application/json", "content-length": "27" };

  it("when the body is plain JSON of a known length within the limit, then its length", () => {
    expect(plainJsonBodyLength(json, 1024)).toBe(27);
    expect(plainJsonBodyLength({ ...json, "content-type": "Application/JSON;charset=UTF-8" }, 1024)).toBe(27);
  });

  it("when anything is unusual, then Express's parser gets the request", () => {
    const unusual = [
      { ...json, "content-length": "0" },
      { ...json, "content-length": "2048" },
      { ...json, "content-length": "27, 27" },
      { "content-type": "application/json", "transfer-encoding": "chunked" },
      { ...json, "content-encoding": "gzip" },
      { ...json, "content-encoding": "identity" },
      { ...json, "content-type": "application/json; charset=latin1" },
      { ...json, "content-type": "application/vnd.coupon+json" },
      { ...json, "content-type": "text/plain" },
      { "content-length": "27" },
    ];
    for (const headers of unusual)
      expect(plainJsonBodyLength(headers, 1024), JSON.stringify(headers)).toBe(undefined);
  });
});

describe("parseJsonBody: express.json()'s strict mode", () => {
  it("when the body is an object or array, with whitespace or a BOM before it, then it is parsed", () => {
    expect(parseJsonBody(Buffer.from(' \n{"a":1}'))).toEqual({ a: 1 });
    expect(parseJsonBody(Buffer.from("\uFEFF[1,2]"))).toEqual([1, 2]);
  });

  it("when the body is a bare value or not JSON, then 400 MALFORMED_JSON", () => {
    for (const body of ['"text"', "42", "null", "{", "", "\uFEFF"]) {
      expect(() => parseJsonBody(Buffer.from(body)), body).toThrow(
        expect.objectContaining({ status: 400, code: "MALFORMED_JSON" }),
      );
    }
  });
});

describe("a JSON route served directly", () => {
  let closing: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await closing?.();
    closing = undefined;
  });

  function appWith(handle: JsonRoute["handle"], lines: string[] = []) {
    const destination = new Writable({
      write(chunk, _e, done) {
        lines.push(String(chunk));
        done();
      },
    });
    return createHttpApp({
      service: "test",
      logger: createLogger({ service: "test", level: "info", destination }),
      registry: new Registry(),
      jsonRoutes: [{ method: "POST", path: "/things", handle }],
    });
  }

  it("when the handler fails unexpectedly, then 500 problem+json without internals, logged with the request id", async () => {
    const lines: string[] = [];
    const app = appWith(async () => {
      throw new Error("database password is hunter2");
    }, lines);
    const res = await request(app).post("/things").set("x-request-id", "req-7").send({ a: 1 });
    expect(res.status).toBe(500);
    expect(res.headers["content-type"]).toBe("application/problem+json; charset=utf-8");
    expect(res.body).toMatchObject({ code: "INTERNAL_ERROR", instance: "/things" });
    expect(res.text).not.toContain("hunter2");
    const crash = lines.map((l) => JSON.parse(l)).find((l) => l.msg === "unhandled error");
    expect(crash).toMatchObject({ request_id: "req-7" });
  });

  it("when the answer cannot be serialised, then 500 problem+json rather than a crash", async () => {
    const app = appWith(async () => ({ status: 201, body: { id: 1n } }));
    const res = await request(app).post("/things").send({ a: 1 });
    expect(res.status).toBe(500);
    expect(res.body).toMatchObject({ code: "INTERNAL_ERROR" });
  });

  it("when the client goes away halfway through the body, then the handler is not called and the server carries on", async () => {
    let calls = 0;
    const app = appWith(async ({ body }) => {
      calls++;
      return { status: 201, body };
    });
    const server = await listen(app, 0, "127.0.0.1");
    closing = () => closeServer(server);
    const { port } = server.address() as { port: number };
    await new Promise<void>((done) => {
      const socket = connect(port, "127.0.0.1", () => {
        socket.write(
          'POST /things HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"a":',
        );
        setTimeout(() => socket.destroy(), 50);
      });
      socket.on("close", () => done());
    });
    const after = await request(server).post("/things").send({ a: 2 });
    expect(after.status).toBe(201);
    expect(after.body).toEqual({ a: 2 });
    expect(calls).toBe(1);
  });
});
