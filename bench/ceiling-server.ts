// The ceilings the issue path is compared with, served with the same response size and headers as
// its 201: a bare Node HTTP server (what Node's HTTP layer costs on this machine), and one that also
// verifies the request's JWT with the shared verifier (what that costs, the one piece of per-request
// work no optimisation of ours can remove).
// With WORKERS > 1 it runs as many processes on the port (node:cluster), as the issue service does
// with HTTP_WORKERS, so that each ceiling has the same shape as what it is compared with.
//   node bench/ceiling-server.ts bare|verify
//   (PORT, BODY_BYTES, WORKERS; verify: JWT_JWKS_URL, JWT_ISSUER, JWT_AUDIENCE)
import cluster from "node:cluster";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createJwtVerifier, createRemoteJwks } from "@coupon/auth";
import { env, loadConfig, z } from "@coupon/config";

const mode = process.argv[2];
if (mode !== "bare" && mode !== "verify") {
  process.stderr.write("usage: ceiling-server.ts bare|verify\n");
  process.exit(2);
}
const config = loadConfig(
  z.object({
    PORT: env.port(0),
    BODY_BYTES: env.positiveInt(128),
    WORKERS: env.positiveInt(1),
    JWT_JWKS_URL: mode === "verify" ? env.url(["http", "https"]) : env.url(["http", "https"]).optional(),
    JWT_ISSUER: env.string().default("coupon-user-service"),
    JWT_AUDIENCE: env.string().default("coupon-platform"),
  }),
);

// A JSON body of exactly BODY_BYTES bytes, shaped like the issuance answer.
const padding = Math.max(0, config.BODY_BYTES - JSON.stringify({ issued: true, pad: "" }).length);
const body = JSON.stringify({ issued: true, pad: "x".repeat(padding) });
const headers = (req: IncomingMessage) => ({
  "content-type": "application/json; charset=utf-8",
  "content-length": Buffer.byteLength(body),
  "x-request-id": req.headers["x-request-id"] ?? "",
});

const verifier =
  mode === "verify" && config.JWT_JWKS_URL
    ? createJwtVerifier({
        keys: createRemoteJwks({ url: config.JWT_JWKS_URL }),
        issuer: config.JWT_ISSUER,
        audience: config.JWT_AUDIENCE,
      })
    : undefined;

async function answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (verifier) {
    const header = req.headers.authorization ?? "";
    try {
      await verifier.verify(header.slice(header.indexOf(" ") + 1));
    } catch {
      res.writeHead(401, { ...headers(req), "content-length": 0 }).end();
      return;
    }
  }
  res.writeHead(201, headers(req)).end(body);
}

if (config.WORKERS > 1 && cluster.isPrimary) {
  const workers = Array.from({ length: config.WORKERS }, () => cluster.fork());
  let port: number | undefined;
  for (const worker of workers) {
    worker.on("listening", (address) => {
      if (port !== undefined) return;
      port = address.port;
      process.stdout.write(`${JSON.stringify({ mode, port, workers: config.WORKERS })}\n`);
    });
  }
  process.on("SIGTERM", () => {
    for (const worker of workers) worker.process.kill("SIGTERM");
    cluster.on("exit", () => {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
    });
  });
} else {
  serve();
}

function serve(): void {
  const server = createServer((req, res) => {
    // Read the request body, as a real handler must before it answers.
    req.on("data", () => {});
    req.on("end", () => void answer(req, res));
  });
  server.listen(config.PORT, "127.0.0.1", () => {
    if (cluster.isPrimary)
      process.stdout.write(
        `${JSON.stringify({ mode, port: (server.address() as { port: number }).port })}\n`,
      );
  });
  process.on("SIGTERM", () => {
    server.close(() => process.exit(0));
    server.closeIdleConnections();
  });
}
