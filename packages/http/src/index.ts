export {
  createHttpApp,
  type HttpApp,
  type HttpAppOptions,
  type ReadinessCheck,
  type ServiceAppDeps,
} from "./app.ts";
export type { JsonAnswer, JsonRequest, JsonRoute } from "./json-route.ts";
export type {
  ApiSpec,
  AuthSpec,
  HttpMethod,
  OperationSpec,
  SuccessSpec,
} from "./openapi.ts";
export {
  closeServer,
  DEFAULT_SERVER_LIMITS,
  httpServiceEnv,
  listen,
  type ServerConfig,
  type ServerLimits,
  serve,
  serverLimitsOf,
} from "./server.ts";
export { parseInput } from "./validation.ts";
