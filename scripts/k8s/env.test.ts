// The environment the chart gives each service is exactly what that service's config schema reads.
//
// The rule: the chart sets every variable the schema requires (no default, not optional) and only
// variables the schema knows; variables with a default may be set or left out. For variables that
// must come as a pair or one of two (REDIS_URL or REDIS_SENTINELS, a signing key as PEM or as a file),
// the whole rendered environment is parsed with the real schema, with stand-ins for what Kubernetes
// provides at run time: Secret values, and the files of Secret volumes at their mount paths.
// Renaming a variable on either side, or adding a required one to a schema only, fails here.
import { generateKeyPairSync } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { configSchema as couponSchema } from "../../services/coupon/src/config.ts";
import { configSchema as issueSchema } from "../../services/issue/src/config.ts";
import { configSchema as issueConsumerSchema } from "../../services/issue-consumer/src/config.ts";
import { configSchema as userSchema } from "../../services/user/src/config.ts";
import { type K8sObject, render } from "./helm.ts";

/** What the check uses of a service's zod object schema (refinements included). */
interface ConfigSchema {
  shape: Record<string, { safeParse(value: unknown): { success: boolean } }>;
  safeParse(
    value: unknown,
  ): { success: true } | { success: false; error: { issues: { path: PropertyKey[]; message: string }[] } };
}

const SCHEMAS: Record<string, ConfigSchema> = {
  user: userSchema as unknown as ConfigSchema,
  coupon: couponSchema as unknown as ConfigSchema,
  issue: issueSchema as unknown as ConfigSchema,
  "issue-consumer": issueConsumerSchema as unknown as ConfigSchema,
};

/** Stand-ins for values the chart takes from Secrets (by variable name). */
const SECRET_STAND_INS: Record<string, string> = {
  DATABASE_URL: "mysql://coupon:secret@mariadb.coupon-infra.svc.cluster.local:3306/coupon",
  REDIS_PASSWORD: "secret",
};

const keyPair = generateKeyPairSync("rsa", { modulusLength: 2048 });
/** Contents of the files of each Secret volume, by Secret name (all keys get the same content). */
const SECRET_FILES: Record<string, string> = {
  "coupon-jwt-signing-key": keyPair.privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
  "coupon-jwt-published-keys": keyPair.publicKey.export({ type: "spki", format: "pem" }).toString(),
};

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string }; configMapKeyRef?: unknown; fieldRef?: unknown };
}
interface Container {
  env?: EnvVar[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  volumeMounts?: { name: string; mountPath: string }[];
}
interface PodSpec {
  containers: Container[];
  volumes?: { name: string; secret?: { secretName: string } }[];
}

interface RenderedEnv {
  /** Literal values (env value and ConfigMap data). */
  literal: Map<string, string>;
  /** Variables whose value comes from a Secret key. */
  fromSecret: Set<string>;
  container: Container;
  pod: PodSpec;
}

function renderedEnv(objects: K8sObject[], component: string): RenderedEnv {
  const deployment = objects.find(
    (o) => o.kind === "Deployment" && o.metadata.labels?.["app.kubernetes.io/component"] === component,
  );
  if (!deployment) throw new Error(`no Deployment for ${component}`);
  const pod = (deployment.spec as { template: { spec: PodSpec } }).template.spec;
  const [container] = pod.containers;
  if (!container) throw new Error(`no container in ${component}`);
  const literal = new Map<string, string>();
  const fromSecret = new Set<string>();
  for (const source of container.envFrom ?? []) {
    if (source.secretRef)
      throw new Error(`${component}: envFrom secretRef hides the variable names; use secretKeyRef`);
    const name = source.configMapRef?.name;
    const configMap = objects.find((o) => o.kind === "ConfigMap" && o.metadata.name === name);
    if (!configMap) throw new Error(`${component}: ConfigMap ${name} is not rendered`);
    for (const [key, value] of Object.entries((configMap.data ?? {}) as Record<string, string>))
      literal.set(key, value);
  }
  for (const variable of container.env ?? []) {
    if (variable.value !== undefined) literal.set(variable.name, variable.value);
    else if (variable.valueFrom?.secretKeyRef) fromSecret.add(variable.name);
    else throw new Error(`${component}: ${variable.name} has a source the check does not know`);
  }
  return { literal, fromSecret, container, pod };
}

function variableNames(env: RenderedEnv): string[] {
  return [...env.literal.keys(), ...env.fromSecret].sort();
}

function requiredKeys(schema: ConfigSchema): string[] {
  return Object.entries(schema.shape)
    .filter(([, field]) => !field.safeParse(undefined).success)
    .map(([key]) => key)
    .sort();
}

/** The standard variables the chart sets for packages/telemetry, read by the SDK rather than a schema. */
const OTEL_VARIABLES = new Set([
  "OTEL_SERVICE_NAME",
  "OTEL_EXPORTER_OTLP_ENDPOINT",
  "OTEL_EXPORTER_OTLP_PROTOCOL",
  "OTEL_TRACES_SAMPLER",
  "OTEL_TRACES_SAMPLER_ARG",
]);

const scratch = mkdtempSync(path.join(tmpdir(), "chart-env-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** The environment the process would see, with Secret values and Secret volume files stood in for. */
function processEnv(component: string, env: RenderedEnv): Record<string, string> {
  const result: Record<string, string> = {};
  const mounts = (env.container.volumeMounts ?? []).map((mount) => {
    const volume = env.pod.volumes?.find((v) => v.name === mount.name);
    return { ...mount, secretName: volume?.secret?.secretName };
  });
  for (const [name, value] of env.literal) {
    const mount = mounts.find((m) => value === m.mountPath || value.startsWith(`${m.mountPath}/`));
    if (!mount) {
      result[name] = value;
      continue;
    }
    if (!mount.secretName)
      throw new Error(`${component}: ${name} points into volume ${mount.name}, which is no Secret`);
    const content = SECRET_FILES[mount.secretName];
    if (content === undefined)
      throw new Error(`${component}: no stand-in for the files of Secret ${mount.secretName}`);
    const dir = path.join(scratch, component, mount.name);
    mkdirSync(dir, { recursive: true });
    const relative = value.slice(mount.mountPath.length).replace(/^\//, "");
    // A variable naming a file gets that file; one naming the mount gets a directory with one file.
    writeFileSync(path.join(dir, relative || "key.pem"), content);
    result[name] = path.join(dir, relative);
  }
  for (const name of env.fromSecret) {
    const standIn = SECRET_STAND_INS[name];
    if (standIn === undefined) throw new Error(`${component}: no stand-in for the Secret-backed ${name}`);
    result[name] = standIn;
  }
  return result;
}

describe.each([
  ["default", []],
  ["kind", ["k8s-dev/values-kind.yaml"]],
  ["all-features", ["charts/coupon-platform/ci/all-features-values.yaml"]],
] as [string, string[]][])("the environment the chart sets (%s values)", (_name, valuesFiles) => {
  const objects = render({ valuesFiles });

  describe.each(Object.keys(SCHEMAS))("for the %s service", (component) => {
    const schema = SCHEMAS[component] as ConfigSchema;
    const env = renderedEnv(objects, component);
    const known = Object.keys(schema.shape);

    it("when the chart sets a variable, then the service's config schema reads it, or it is one of the OpenTelemetry SDK's", () => {
      expect(variableNames(env).filter((name) => !known.includes(name) && !OTEL_VARIABLES.has(name))).toEqual(
        [],
      );
    });

    it("when the config schema requires a variable, then the chart sets it", () => {
      const set = variableNames(env);
      expect(requiredKeys(schema).filter((name) => !set.includes(name))).toEqual([]);
    });

    it("when the rendered environment is parsed by the config schema, then it is valid", () => {
      const result = schema.safeParse(processEnv(component, env));
      const issues = result.success
        ? []
        : result.error.issues.map((issue) => `${String(issue.path[0] ?? "")}: ${issue.message}`);
      expect(issues).toEqual([]);
    });
  });
});

describe("the check itself", () => {
  const objects = render();

  it("when a ConfigMap variable is renamed, then the known-variables rule fails", () => {
    const env = renderedEnv(objects, "issue");
    const renamed = new Map(
      [...env.literal].map(([k, v]) => [k === "KAFKA_BROKERS" ? "KAFKA_BROKER" : k, v]),
    );
    const names = [...renamed.keys(), ...env.fromSecret];
    expect(
      names.filter((name) => !Object.keys(issueSchema.shape).includes(name) && !OTEL_VARIABLES.has(name)),
    ).toEqual(["KAFKA_BROKER"]);
    expect(requiredKeys(issueSchema as unknown as ConfigSchema).filter((n) => !names.includes(n))).toContain(
      "KAFKA_BROKERS",
    );
  });
});
