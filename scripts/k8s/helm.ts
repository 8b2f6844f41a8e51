// Runs the Helm binary that scripts/bootstrap.sh installs (.local/bin/helm): lint and template
// offline, and install only on the test's own API server (scripts/k8s/apiserver.test.ts).
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { parseAllDocuments } from "yaml";

export const repoRoot = path.resolve(import.meta.dirname, "..", "..");
export const chartDir = path.join(repoRoot, "charts", "coupon-platform");
/** The schemas shared beside the repository (CI clones the repo with ../shared next to it). */
export const schemasDir = path.resolve(repoRoot, "..", "shared", "schemas");

/** The Kubernetes version templates are rendered for; `go install`ed Helm otherwise assumes v1.20. */
export const KUBE_VERSION = "1.34.0";

export function helmBinary(): string {
  const local = path.join(repoRoot, ".local", "bin", "helm");
  if (existsSync(local)) return local;
  const onPath = spawnSync("helm", ["version", "--short"], { encoding: "utf8" });
  if (onPath.status === 0) return "helm";
  throw new Error("helm is not installed: run scripts/bootstrap.sh (it installs .local/bin/helm)");
}

export interface HelmResult {
  status: number;
  stdout: string;
  stderr: string;
}

/**
 * Nothing from the user's Helm configuration (repositories, plugins, registries, kubeconfig) takes
 * part; a cluster only when its kubeconfig is given.
 */
export function helmEnv(kubeconfig?: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? "",
    HOME: process.env.HOME ?? "/tmp",
    HELM_CACHE_HOME: path.join(repoRoot, ".local", "helm", "cache"),
    HELM_CONFIG_HOME: path.join(repoRoot, ".local", "helm", "config"),
    HELM_DATA_HOME: path.join(repoRoot, ".local", "helm", "data"),
    ...(kubeconfig === undefined ? {} : { KUBECONFIG: kubeconfig }),
  };
}

export function helm(args: readonly string[], kubeconfig?: string): HelmResult {
  const result = spawnSync(helmBinary(), args, { encoding: "utf8", cwd: repoRoot, env: helmEnv(kubeconfig) });
  return { status: result.status ?? 1, stdout: result.stdout, stderr: result.stderr };
}

export interface RenderOptions {
  valuesFiles?: readonly string[];
  set?: readonly string[];
  release?: string;
  namespace?: string;
}

function valuesArgs(options: RenderOptions): string[] {
  return [
    ...(options.valuesFiles ?? []).flatMap((file) => ["--values", path.resolve(repoRoot, file)]),
    ...(options.set ?? []).flatMap((value) => ["--set", value]),
  ];
}

export function lint(options: RenderOptions = {}): HelmResult {
  return helm(["lint", "--strict", chartDir, "--kube-version", KUBE_VERSION, ...valuesArgs(options)]);
}

export function template(options: RenderOptions = {}): HelmResult {
  return helm([
    "template",
    options.release ?? "coupon-platform",
    chartDir,
    "--namespace",
    options.namespace ?? "coupon",
    "--kube-version",
    KUBE_VERSION,
    ...valuesArgs(options),
  ]);
}

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  [key: string]: unknown;
}

/** Parses a multi-document YAML stream into objects (empty documents dropped); fails on YAML errors. */
export function parseManifests(text: string, source: string): K8sObject[] {
  const objects: K8sObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`${source}: ${doc.errors.map((e) => e.message).join("; ")}`);
    const value = doc.toJS() as K8sObject | null;
    if (value !== null && value !== undefined) objects.push(value);
  }
  return objects;
}

/** Renders the chart and returns its objects; throws with Helm's message when rendering fails. */
export function render(options: RenderOptions = {}): K8sObject[] {
  const result = template(options);
  if (result.status !== 0) throw new Error(`helm template failed:\n${result.stderr}`);
  return parseManifests(result.stdout, "helm template");
}
