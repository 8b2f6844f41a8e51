// The chart on a real Kubernetes API server (scripts/k8s/kube.sh: etcd, kube-apiserver v1.37.2, the
// controller manager and the scheduler on loopback, no kubelet and no node). What an offline check
// cannot tell: that the server takes every object with strict field validation and the CRDs' CEL
// rules enforced, that the migration hook runs before the Deployments exist and the release reaches
// `deployed`, that the controllers turn Deployments into ReplicaSets and Pods and accept the HPA,
// and that an upgrade with a changed ConfigMap rolls the pods.
//
// Nothing runs a Job here: the controller manager runs without its Job controller (there is no
// kubelet to run the Job's pod anyway), so `markMigrationComplete` writes the status a finished
// migration would have. That is the one step this test does in the cluster's stead.
import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  chartDir,
  helmBinary,
  helmEnv,
  type K8sObject,
  parseManifests,
  repoRoot,
  schemasDir,
} from "./helm.ts";

const kubeSh = path.join(repoRoot, "scripts", "k8s", "kube.sh");
const env = Object.fromEntries(
  execFileSync(kubeSh, ["env"], { encoding: "utf8" })
    .trim()
    .split("\n")
    .map((line) => line.split("=", 2) as [string, string]),
);
const kubeconfig = env.KUBECONFIG as string;
const kubectlBin = path.join(env.KUBE_BIN as string, "kubectl");

interface Result {
  status: number;
  stdout: string;
  stderr: string;
}

function kubectl(args: readonly string[], input?: string): Result {
  const result = spawnSync(kubectlBin, ["--kubeconfig", kubeconfig, ...args], {
    encoding: "utf8",
    input,
    cwd: repoRoot,
  });
  return { status: result.status ?? 1, stdout: result.stdout, stderr: result.stderr };
}

function kubectlJson<T>(args: readonly string[]): T {
  const result = kubectl([...args, "-o", "json"]);
  if (result.status !== 0) throw new Error(`kubectl ${args.join(" ")}: ${result.stderr}`);
  return JSON.parse(result.stdout) as T;
}

interface Listed<T = K8sObject> {
  items: T[];
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}

/** A command running in the background, with its output collected and its exit awaited. */
function background(
  command: string,
  args: readonly string[],
  options: { cwd: string; env: NodeJS.ProcessEnv },
) {
  const child: ChildProcess = spawn(command, args, { ...options, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk) => {
    stdout += chunk;
  });
  child.stderr?.on("data", (chunk) => {
    stderr += chunk;
  });
  let exited: number | undefined;
  const done = new Promise<Result>((resolve) => {
    child.on("close", (code) => {
      exited = code ?? 1;
      resolve({ status: exited, stdout, stderr });
    });
  });
  return { done, running: () => exited === undefined, output: () => stdout + stderr };
}

interface JobStatus {
  metadata: { name: string };
  status?: { conditions?: { type: string; status: string }[] };
}

/**
 * Waits for the migration hook's Job of a release and marks it complete as the Job controller would
 * after its pod succeeded. Returns the Job's name and the Deployments that existed when it appeared.
 */
async function markMigrationComplete(
  namespace: string,
  command: { running: () => boolean; output: () => string },
) {
  const job = await until(`the migration Job in ${namespace}`, () => {
    if (!command.running()) throw new Error(`the command ended before its hook ran:\n${command.output()}`);
    return kubectlJson<Listed<JobStatus>>(["-n", namespace, "get", "jobs"]).items.find(
      (j) => !j.status?.conditions?.some((c) => c.type === "Complete"),
    );
  });
  const deploymentsBeforeHook = kubectlJson<Listed>(["-n", namespace, "get", "deployments"]).items.map(
    (d) => d.metadata.name,
  );
  const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  const status = {
    status: {
      startTime: now,
      completionTime: now,
      succeeded: 1,
      conditions: [
        { type: "SuccessCriteriaMet", status: "True", lastProbeTime: now, lastTransitionTime: now },
        { type: "Complete", status: "True", lastProbeTime: now, lastTransitionTime: now },
      ],
    },
  };
  const patched = kubectl([
    "-n",
    namespace,
    "patch",
    "job",
    job.metadata.name,
    "--subresource=status",
    "--type=merge",
    "-p",
    JSON.stringify(status),
  ]);
  if (patched.status !== 0) throw new Error(`marking ${job.metadata.name} complete: ${patched.stderr}`);
  return { job: job.metadata.name, deploymentsBeforeHook };
}

/** Runs a helm command that installs or upgrades a release, standing in for the Job controller. */
async function helmWithHook(args: readonly string[], namespace: string) {
  const command = background(helmBinary(), args, { cwd: repoRoot, env: helmEnv(kubeconfig) });
  const hook = await markMigrationComplete(namespace, command);
  const result = await command.done;
  if (result.status !== 0) throw new Error(`helm ${args.join(" ")}:\n${result.stderr}`);
  return { ...hook, result };
}

function releaseStatus(release: string, namespace: string): string {
  const result = spawnSync(helmBinary(), ["status", release, "-n", namespace, "-o", "json"], {
    encoding: "utf8",
    env: helmEnv(kubeconfig),
  });
  if (result.status !== 0) throw new Error(result.stderr);
  return (JSON.parse(result.stdout) as { info: { status: string } }).info.status;
}

/** The kinds a release holds, hooks included, as the server has them. */
function releaseKinds(release: string, namespace: string): string[] {
  const kinds = new Set<string>();
  for (const what of ["manifest", "hooks"]) {
    const result = spawnSync(helmBinary(), ["get", what, release, "-n", namespace], {
      encoding: "utf8",
      env: helmEnv(kubeconfig),
    });
    if (result.status !== 0) throw new Error(result.stderr);
    for (const object of parseManifests(result.stdout, `helm get ${what}`)) {
      const [group, version] = object.apiVersion.includes("/")
        ? object.apiVersion.split("/")
        : ["", object.apiVersion];
      const resource = group === "" ? object.kind : `${object.kind}.${version}.${group}`;
      const found = kubectl(["-n", namespace, "get", resource, object.metadata.name, "-o", "name"]);
      if (found.status !== 0)
        throw new Error(`${object.kind}/${object.metadata.name} is not on the server: ${found.stderr}`);
      kinds.add(`${object.apiVersion} ${object.kind}`);
    }
  }
  return [...kinds].sort();
}

beforeAll(() => {
  execFileSync(kubeSh, ["start"], { stdio: ["ignore", "inherit", "inherit"], timeout: 240_000 });
}, 300_000);

afterAll(() => {
  execFileSync(kubeSh, ["stop"], { stdio: ["ignore", "inherit", "inherit"], timeout: 120_000 });
}, 180_000);

describe("the chart on a real kube-apiserver", () => {
  const pinned = path.join(schemasDir, "crds-pinned");

  // The releases we pin (Envoy Gateway v1.9.0 with its Gateway API bundle, Strimzi 1.1.0), and the
  // Prometheus Operator's (0.93.0, no release of it is pinned) for the all-features ServiceMonitors
  // and PrometheusRule.
  const crdFiles = [
    ...readdirSync(pinned)
      .sort()
      .map((file) => path.join(pinned, file)),
    path.join(schemasDir, "crds", "prometheus-operator.servicemonitors.yaml"),
    path.join(schemasDir, "crds", "prometheus-operator.prometheusrules.yaml"),
  ];

  beforeAll(() => {
    for (const file of crdFiles) {
      // Server-side: the Gateway API bundle's CRDs are too large for the last-applied annotation.
      const applied = kubectl(["apply", "--server-side", "-f", file]);
      if (applied.status !== 0) throw new Error(`${file}: ${applied.stderr}`);
    }
    const established = kubectl(["wait", "--for=condition=Established", "crd", "--all", "--timeout=60s"]);
    if (established.status !== 0) throw new Error(established.stderr);
  }, 120_000);

  it("when the pinned CRDs are installed, then the server serves the kinds the chart and k8s-dev use", () => {
    const served = kubectl(["api-resources", "-o", "name"]).stdout.split("\n");
    expect(served).toEqual(
      expect.arrayContaining([
        "gateways.gateway.networking.k8s.io",
        "httproutes.gateway.networking.k8s.io",
        "gatewayclasses.gateway.networking.k8s.io",
        "securitypolicies.gateway.envoyproxy.io",
        "clienttrafficpolicies.gateway.envoyproxy.io",
        "envoyproxies.gateway.envoyproxy.io",
        "kafkas.kafka.strimzi.io",
        "kafkanodepools.kafka.strimzi.io",
        "kafkatopics.kafka.strimzi.io",
        "servicemonitors.monitoring.coreos.com",
        "prometheusrules.monitoring.coreos.com",
      ]),
    );
  });

  it("when an object breaks a schema or a CEL rule, then the server refuses it (validation is on)", () => {
    const unknownField = kubectl(
      ["create", "--validate=strict", "-f", "-"],
      JSON.stringify({
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "probe", namespace: "default" },
        data: {},
        spec: {},
      }),
    );
    expect(unknownField.status).not.toBe(0);
    expect(unknownField.stderr).toMatch(/unknown field "spec"/);
    // The Gateway API's CEL rule: a PathPrefix must start with "/".
    const cel = kubectl(
      ["create", "-f", "-"],
      JSON.stringify({
        apiVersion: "gateway.networking.k8s.io/v1",
        kind: "HTTPRoute",
        metadata: { name: "probe", namespace: "default" },
        spec: { rules: [{ matches: [{ path: { type: "PathPrefix", value: "/a//b" } }] }] },
      }),
    );
    expect(cel.status).not.toBe(0);
    expect(cel.stderr).toMatch(/must not contain '\/\/'/);
  });

  // Name, namespace, values files, and whether the issue service scales with an HPA (kind has none).
  const VALUES_SETS: [string, string, string[], boolean][] = [
    ["default", "values-default", [], true],
    ["kind", "values-kind", ["k8s-dev/values-kind.yaml"], false],
    ["all-features", "values-all-features", ["charts/coupon-platform/ci/all-features-values.yaml"], true],
  ];

  describe.each(VALUES_SETS)("helm install with the %s values", (_name, namespace, valuesFiles, hpa) => {
    let install: Awaited<ReturnType<typeof helmWithHook>>;
    beforeAll(async () => {
      install = await helmWithHook(
        [
          "install",
          "coupon-platform",
          chartDir,
          "--namespace",
          namespace,
          "--create-namespace",
          ...valuesFiles.flatMap((file) => ["--values", path.join(repoRoot, file)]),
        ],
        namespace,
      );
    }, 180_000);

    it("when the migration hook runs, then no Deployment exists yet, and the release reaches deployed", () => {
      expect(install.job).toMatch(/^coupon-platform-migrate-|^coupon-migrate-/);
      expect(install.deploymentsBeforeHook).toEqual([]);
      expect(releaseStatus("coupon-platform", namespace)).toBe("deployed");
    });

    it("when the release is installed, then every object it renders is on the server", () => {
      const kinds = releaseKinds("coupon-platform", namespace);
      console.log(`accepted (${namespace}): ${kinds.join(", ")}`);
      expect(kinds).toEqual(expect.arrayContaining(["apps/v1 Deployment", "batch/v1 Job", "v1 ConfigMap"]));
    });

    it("when the controllers run, then each Deployment has a ReplicaSet and Pods, which no node can take", async () => {
      const deployments = kubectlJson<Listed>(["-n", namespace, "get", "deployments"]).items;
      expect(deployments.length).toBe(4);
      const ownedBy = (o: K8sObject, owner: K8sObject) =>
        (o.metadata as { ownerReferences?: { uid: string }[] }).ownerReferences?.some(
          (ref) => ref.uid === (owner.metadata as { uid?: string }).uid,
        ) ?? false;
      const pods = await until("a Pod of every Deployment", () => {
        const replicaSets = kubectlJson<Listed>(["-n", namespace, "get", "replicasets"]).items;
        const listed = kubectlJson<Listed>(["-n", namespace, "get", "pods"]).items;
        const everyOne = deployments.every((d) =>
          replicaSets.some((rs) => ownedBy(rs, d) && listed.some((p) => ownedBy(p, rs))),
        );
        return everyOne ? listed : undefined;
      });
      const scheduled = await until("the scheduler's verdict on every Pod", () => {
        const now = kubectlJson<
          Listed<K8sObject & { status?: { conditions?: { type: string; reason?: string }[] } }>
        >(["-n", namespace, "get", "pods"]).items;
        const verdicts = now.map((p) => p.status?.conditions?.find((c) => c.type === "PodScheduled")?.reason);
        return verdicts.every((v) => v !== undefined) ? verdicts : undefined;
      });
      expect(pods.length).toBeGreaterThanOrEqual(4);
      expect(new Set(scheduled)).toEqual(new Set(["Unschedulable"]));
    });

    it(`when the values ${hpa ? "create an HPA, then the HPA controller takes it up" : "create no HPA, then there is none"}`, async () => {
      const listHpas = () =>
        kubectlJson<Listed<K8sObject & { status?: { conditions?: { type: string }[] } }>>([
          "-n",
          namespace,
          "get",
          "horizontalpodautoscalers",
        ]).items;
      if (!hpa) {
        expect(listHpas()).toEqual([]);
        return;
      }
      const conditions = await until("the HPA's conditions", () => {
        const conditions = listHpas()[0]?.status?.conditions ?? [];
        return conditions.length > 0 ? conditions.map((c) => c.type) : undefined;
      });
      const [autoscaler] = listHpas() as (K8sObject & {
        spec: { minReplicas: number; scaleTargetRef: { name: string } };
      })[];
      expect(listHpas()).toHaveLength(1);
      expect(conditions).toContain("AbleToScale");
      // The chart leaves the Deployment's replicas to the HPA: the controller raises them to its minimum.
      const replicas = await until("the HPA's minimum on its Deployment", () => {
        const { spec } = kubectlJson<{ spec: { replicas: number } }>([
          "-n",
          namespace,
          "get",
          "deployment",
          autoscaler?.spec.scaleTargetRef.name ?? "",
        ]);
        return spec.replicas === autoscaler?.spec.minReplicas ? spec.replicas : undefined;
      });
      expect(replicas).toBeGreaterThan(1);
    });
  });

  it("when helm upgrade changes a ConfigMap, then every Deployment's checksum/config changes and a new ReplicaSet rolls out", async () => {
    const namespace = "values-default";
    const checksums = () =>
      Object.fromEntries(
        kubectlJson<
          Listed<K8sObject & { spec: { template: { metadata: { annotations?: Record<string, string> } } } }>
        >(["-n", namespace, "get", "deployments"]).items.map((d) => [
          d.metadata.name,
          d.spec.template.metadata.annotations?.["checksum/config"],
        ]),
      );
    const before = checksums();
    const replicaSetsBefore = kubectlJson<Listed>(["-n", namespace, "get", "replicasets"]).items.length;
    await helmWithHook(
      [
        "upgrade",
        "coupon-platform",
        chartDir,
        "--namespace",
        namespace,
        "--reuse-values",
        "--set",
        "config.logLevel=debug",
      ],
      namespace,
    );
    expect(releaseStatus("coupon-platform", namespace)).toBe("deployed");
    const after = checksums();
    expect(Object.keys(after).sort()).toEqual(Object.keys(before).sort());
    for (const [name, checksum] of Object.entries(after)) {
      expect(checksum, name).toMatch(/^[0-9a-f]{64}$/);
      expect(checksum, name).not.toBe(before[name]);
    }
    const replicaSets = await until("a new ReplicaSet per Deployment", () => {
      const now = kubectlJson<Listed>(["-n", namespace, "get", "replicasets"]).items.length;
      return now >= replicaSetsBefore + Object.keys(after).length ? now : undefined;
    });
    expect(replicaSets).toBe(replicaSetsBefore + Object.keys(after).length);
  }, 180_000);

  it("when the README's real-cluster commands are run as they stand, then the release reaches deployed", async () => {
    const readme = readFileSync(path.join(repoRoot, "README.md"), "utf8");
    const section = readme.slice(readme.indexOf("### On a real cluster"));
    const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? "";
    // From the namespace on: the image builds before it need Docker and a registry.
    const script = block.slice(block.indexOf("kubectl create namespace"));
    expect(script).toContain("helm upgrade --install coupon-platform charts/coupon-platform -n coupon");
    const work = mkdtempSync(path.join(tmpdir(), "coupon-readme-"));
    try {
      symlinkSync(path.join(repoRoot, "charts"), path.join(work, "charts"));
      execFileSync("openssl", ["genpkey", "-algorithm", "RSA", "-out", path.join(work, "signing.pem")]);
      const shell = background("bash", ["-euo", "pipefail", "-c", script], {
        cwd: work,
        env: {
          ...helmEnv(kubeconfig),
          PATH: `${path.dirname(kubectlBin)}:${path.dirname(helmBinary())}:${process.env.PATH ?? ""}`,
        },
      });
      await markMigrationComplete("coupon", shell);
      const result = await shell.done;
      expect(result.stderr).not.toMatch(/error/i);
      expect(result.status).toBe(0);
      expect(releaseStatus("coupon-platform", "coupon")).toBe("deployed");
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }, 180_000);
});

describe("k8s-dev on a real kube-apiserver (server-side dry runs)", () => {
  beforeAll(() => {
    kubectl(["create", "namespace", "coupon-infra"]);
  });

  // kind-config.yaml is kind's own configuration, not an object of the API; values-*.yaml are values
  // files (values-kind.yaml is installed above). redis-values.yaml is Bitnami's chart's: that chart
  // cannot be fetched here, so its rendering is not checked.
  it.each(["k8s-dev/gatewayclass.yaml", "k8s-dev/kafka.yaml", "k8s-dev/mariadb.yaml"])(
    "when %s is applied with --dry-run=server, then the server accepts every object",
    (file) => {
      const objects = parseManifests(readFileSync(path.join(repoRoot, file), "utf8"), file);
      const result = kubectl(["apply", "--server-side", "--dry-run=server", "--validate=strict", "-f", file]);
      expect(result.stderr).toBe("");
      expect(result.status).toBe(0);
      expect(result.stdout.trim().split("\n")).toHaveLength(objects.length);
      console.log(
        `accepted (${file}): ${[...new Set(objects.map((o) => `${o.apiVersion} ${o.kind}`))].sort().join(", ")}`,
      );
    },
  );
});
