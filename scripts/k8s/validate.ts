// Offline validation of Kubernetes objects: core kinds with kubernetes-models (the Kubernetes OpenAPI
// schemas), custom kinds against the upstream CRDs in ../shared/schemas/crds (their openAPIV3Schema
// through ajv, then their x-kubernetes-validations CEL rules through a CEL evaluator, after applying
// the schema's defaults as the API server does).
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { type CelInput, run } from "@bufbuild/cel";
import AjvModule, { type ErrorObject, type ValidateFunction } from "ajv";
import { parse } from "yaml";
import type { K8sObject } from "./helm.ts";
import { schemasDir } from "./helm.ts";

const Ajv = AjvModule.default ?? AjvModule;

interface CoreModel {
  validate(): void;
}
type CoreModelClass = new (data: unknown) => CoreModel;

/** Core kinds the chart and k8s-dev render, by "apiVersion/kind". Anything else must have a CRD. */
async function coreModels(): Promise<Map<string, CoreModelClass>> {
  const v1 = await import("kubernetes-models/v1");
  const apps = await import("kubernetes-models/apps/v1");
  const batch = await import("kubernetes-models/batch/v1");
  const policy = await import("kubernetes-models/policy/v1");
  const networking = await import("kubernetes-models/networking.k8s.io/v1");
  const autoscaling = await import("kubernetes-models/autoscaling/v2");
  const entries: [string, unknown][] = [
    ["v1/ConfigMap", v1.ConfigMap],
    ["v1/Service", v1.Service],
    ["v1/ServiceAccount", v1.ServiceAccount],
    ["v1/Secret", v1.Secret],
    ["v1/Namespace", v1.Namespace],
    ["apps/v1/Deployment", apps.Deployment],
    ["apps/v1/StatefulSet", apps.StatefulSet],
    ["batch/v1/Job", batch.Job],
    ["policy/v1/PodDisruptionBudget", policy.PodDisruptionBudget],
    ["networking.k8s.io/v1/NetworkPolicy", networking.NetworkPolicy],
    ["autoscaling/v2/HorizontalPodAutoscaler", autoscaling.HorizontalPodAutoscaler],
  ];
  return new Map(entries.map(([key, model]) => [key, model as CoreModelClass]));
}

type JsonSchema = Record<string, unknown>;

interface CrdVersion {
  name: string;
  served: boolean;
  schema?: { openAPIV3Schema: JsonSchema };
}
interface Crd {
  spec: { group: string; names: { kind: string }; versions: CrdVersion[] };
}

interface CustomKind {
  schema: JsonSchema;
  /** Compiled on first use: the EnvoyProxy schema alone is 1.4 MB. */
  validate?: ValidateFunction;
}

/**
 * Turns a CRD's structural schema into plain JSON Schema: x-kubernetes-int-or-string becomes
 * integer-or-string; an object with properties and no x-kubernetes-preserve-unknown-fields rejects
 * unknown properties (the API server would prune them silently, and kubectl's strict field validation
 * rejects them: either way a misspelt field does not do what was meant).
 */
export function toJsonSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(toJsonSchema);
  if (node === null || typeof node !== "object") return node;
  const source = node as JsonSchema;
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(source)) {
    if (key.startsWith("x-kubernetes-")) continue;
    out[key] = toJsonSchema(value);
  }
  if (source["x-kubernetes-int-or-string"] === true && out.anyOf === undefined && out.type === undefined) {
    out.anyOf = [{ type: "integer" }, { type: "string" }];
  }
  if (
    source.properties &&
    out.additionalProperties === undefined &&
    !source["x-kubernetes-preserve-unknown-fields"]
  ) {
    out.additionalProperties = false;
  }
  return out;
}

/**
 * CRD patterns are Go regular expressions (RE2). The one construct JavaScript lacks that the CRDs
 * use is a leading inline flag group such as `(?i)` (Prometheus Operator's PrometheusRule): it
 * becomes the RegExp's own flag.
 */
function goRegExp(pattern: string, flags: string): RegExp {
  const inline = /^(\^?)\(\?([imsU]+)\)/.exec(pattern);
  if (!inline) return new RegExp(pattern, flags);
  const extra = [...(inline[2] as string)].filter((flag) => "ims".includes(flag)).join("");
  const rest = `${inline[1]}${pattern.slice(inline[0].length)}`;
  return new RegExp(rest, [...new Set(flags + extra)].join(""));
}
// Only ajv's standalone code generation (unused here) reads it; ajv's type requires it.
goRegExp.code = "goRegExp";

const ajv = new Ajv({
  allErrors: true,
  strict: false,
  useDefaults: true,
  validateFormats: false,
  code: { regExp: goRegExp },
});

function compiled(kind: CustomKind): ValidateFunction {
  kind.validate ??= ajv.compile(toJsonSchema(kind.schema) as object);
  return kind.validate;
}

function loadCrds(): Map<string, CustomKind> {
  const kinds = new Map<string, CustomKind>();
  const dir = path.join(schemasDir, "crds");
  for (const file of readdirSync(dir).filter((name) => name.endsWith(".yaml"))) {
    const crd = parse(readFileSync(path.join(dir, file), "utf8")) as Crd;
    for (const version of crd.spec.versions) {
      if (!version.served || !version.schema) continue;
      const schema = version.schema.openAPIV3Schema;
      const key = `${crd.spec.group}/${version.name}/${crd.spec.names.kind}`;
      kinds.set(key, { schema });
    }
  }
  return kinds;
}

/** JSON data as CEL input: objects as maps, whole numbers as ints (the API server decodes them so). */
function toCel(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toCel);
  if (value !== null && typeof value === "object") {
    return new Map(Object.entries(value).map(([key, child]) => [key, toCel(child)]));
  }
  if (typeof value === "number" && Number.isInteger(value)) return BigInt(value);
  return value;
}

/** Evaluates every x-kubernetes-validations rule (CEL) that applies to the data, top-down. */
export function celViolations(schema: JsonSchema, data: unknown, at = ""): string[] {
  if (data === undefined || data === null) return [];
  const violations: string[] = [];
  const rules = (schema["x-kubernetes-validations"] ?? []) as { rule: string; message?: string }[];
  for (const { rule, message } of rules) {
    // Transition rules compare with the stored object; there is none on create.
    if (/\boldSelf\b/.test(rule)) continue;
    let result: unknown;
    try {
      result = run(rule, { self: toCel(data) as CelInput });
    } catch (error) {
      result = error;
    }
    if (result !== null && typeof result === "object" && "message" in result) {
      const reason = String((result as { message: unknown }).message).split("\n")[0];
      violations.push(`${at || "/"}: CEL rule could not be evaluated: ${rule} (${reason})`);
      continue;
    }
    if (result !== true) violations.push(`${at || "/"}: ${message ?? `failed: ${rule}`}`);
  }
  const properties = schema.properties as Record<string, JsonSchema> | undefined;
  if (properties && typeof data === "object" && !Array.isArray(data)) {
    for (const [key, value] of Object.entries(data as Record<string, unknown>)) {
      const child = properties[key];
      if (child) violations.push(...celViolations(child, value, `${at}/${key}`));
    }
  }
  const additional = schema.additionalProperties as JsonSchema | boolean | undefined;
  if (
    !properties &&
    additional &&
    typeof additional === "object" &&
    typeof data === "object" &&
    !Array.isArray(data)
  ) {
    for (const [key, value] of Object.entries(data as Record<string, unknown>)) {
      violations.push(...celViolations(additional, value, `${at}/${key}`));
    }
  }
  const items = schema.items as JsonSchema | undefined;
  if (items && Array.isArray(data)) {
    data.forEach((value, index) => {
      violations.push(...celViolations(items, value, `${at}/${index}`));
    });
  }
  return violations;
}

function describe(errors: ErrorObject[] | null | undefined): string[] {
  return (errors ?? []).map((e) => {
    const extra =
      e.keyword === "additionalProperties"
        ? ` (${(e.params as { additionalProperty: string }).additionalProperty})`
        : e.keyword === "enum"
          ? ` (${JSON.stringify((e.params as { allowedValues: unknown }).allowedValues)})`
          : "";
    return `${e.instancePath || "/"} ${e.message}${extra}`;
  });
}

export interface Validator {
  /** Problems of one object; empty when it is valid. */
  problems(object: K8sObject): string[];
  /** The "apiVersion/kind" keys checked against a CRD. */
  customKinds(): string[];
}

export async function createValidator(): Promise<Validator> {
  const core = await coreModels();
  const custom = loadCrds();
  return {
    customKinds: () => [...custom.keys()],
    problems(object) {
      const key = `${object.apiVersion}/${object.kind}`;
      const problems: string[] = [];
      if (!object.metadata?.name) problems.push("metadata.name is missing");
      const model = core.get(key);
      if (model) {
        try {
          new model(object).validate();
        } catch (error) {
          problems.push((error as Error).message);
        }
        return problems;
      }
      const crd = custom.get(key);
      if (!crd)
        return [`no schema for ${key}: neither a core kind known to the checks nor a CRD in ${schemasDir}`];
      // ajv applies the schema's defaults to the copy, as the API server does before CEL rules run.
      const copy = structuredClone(object);
      const validate = compiled(crd);
      if (!validate(copy)) problems.push(...describe(validate.errors));
      else problems.push(...celViolations(crd.schema, copy));
      return problems;
    },
  };
}
