// The Helm chart, checked offline: `helm lint --strict` and `helm template` for the default, the kind
// and the all-features values; bad values refused by values.schema.json or validateValues; every
// rendered object valid against the Kubernetes schemas and the upstream CRDs.
import { readFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { chartDir, type K8sObject, lint, render, template } from "./helm.ts";
import { createValidator, type Validator } from "./validate.ts";

const VALUES_SETS: Record<string, string[]> = {
  default: [],
  kind: ["k8s-dev/values-kind.yaml"],
  "all-features": ["charts/coupon-platform/ci/all-features-values.yaml"],
};

let validator: Validator;
beforeAll(async () => {
  validator = await createValidator();
});

function byKind(objects: K8sObject[], kind: string): K8sObject[] {
  return objects.filter((o) => o.kind === kind);
}

/** The spec of the one object of that kind (and name), typed as the test reads it. */
function specOf<T>(objects: K8sObject[], kind: string, name?: string): T {
  const found = objects.find((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  if (!found) throw new Error(`no ${kind} ${name ?? ""} rendered`);
  return found.spec as T;
}

describe.each(Object.entries(VALUES_SETS))("the chart with %s values", (_name, valuesFiles) => {
  it("passes helm lint --strict", () => {
    const result = lint({ valuesFiles });
    expect(result.stderr + result.stdout).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
    expect(result.status).toBe(0);
  });

  it("renders objects that all validate against the Kubernetes schemas and the CRDs", () => {
    const objects = render({ valuesFiles });
    expect(objects.length).toBeGreaterThan(20);
    const problems = objects.flatMap((o) =>
      validator.problems(o).map((p) => `${o.kind}/${o.metadata?.name}: ${p}`),
    );
    expect(problems).toEqual([]);
  });

  it("renders no two objects of one kind with the same name", () => {
    const keys = render({ valuesFiles }).map((o) => `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`);
    expect(new Set(keys).size).toBe(keys.length);
  });
});

describe("the rendered chart (default values)", () => {
  let objects: K8sObject[];
  beforeAll(() => {
    objects = render();
  });

  it("when rendered, then each service has a Deployment, Service, ConfigMap, ServiceAccount, PDB and NetworkPolicy", () => {
    for (const service of ["user", "coupon", "issue", "issue-consumer"]) {
      const name = `coupon-platform-${service}`;
      for (const kind of [
        "Deployment",
        "Service",
        "ConfigMap",
        "ServiceAccount",
        "PodDisruptionBudget",
        "NetworkPolicy",
      ]) {
        expect(
          objects.some((o) => o.kind === kind && o.metadata.name === name),
          `${kind} ${name}`,
        ).toBe(true);
      }
    }
  });

  it("when rendered, then every pod runs non-root with a read-only root filesystem and no capabilities", () => {
    const pods = [...byKind(objects, "Deployment"), ...byKind(objects, "Job")].map(
      (o) => (o.spec as { template: { spec: Record<string, unknown> } }).template.spec,
    );
    expect(pods.length).toBe(5);
    for (const pod of pods) {
      expect(pod.securityContext).toMatchObject({ runAsNonRoot: true });
      expect(pod.automountServiceAccountToken).toBe(false);
      for (const container of pod.containers as { securityContext: Record<string, unknown> }[]) {
        expect(container.securityContext).toMatchObject({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ["ALL"] },
        });
      }
    }
  });

  it("when rendered, then every Deployment probes /healthz and /readyz and rolls on a config change", () => {
    for (const deployment of byKind(objects, "Deployment")) {
      const template = (
        deployment.spec as {
          template: {
            metadata: { annotations: Record<string, string> };
            spec: { containers: Record<string, { httpGet: { path: string } }>[] };
          };
        }
      ).template;
      expect(template.metadata.annotations["checksum/config"]).toMatch(/^[0-9a-f]{64}$/);
      const [container] = template.spec.containers;
      expect(container?.livenessProbe?.httpGet.path).toBe("/healthz");
      expect(container?.readinessProbe?.httpGet.path).toBe("/readyz");
    }
  });

  it("when rendered, then the migration Job is a pre-install/pre-upgrade hook that runs dbmate's migrations", () => {
    const [job] = byKind(objects, "Job");
    expect(job?.metadata.annotations?.["helm.sh/hook"]).toBe("pre-install,pre-upgrade");
    const container = specOf<{
      template: { spec: { containers: { command: string[]; workingDir: string }[] } };
    }>(objects, "Job").template.spec.containers[0];
    expect(container?.workingDir).toBe("/app/packages/db");
    expect(container?.command).toEqual(["node", "scripts/migrate.ts"]);
  });

  it("when rendered, then no Secret is created: secrets are referenced by name only", () => {
    expect(byKind(objects, "Secret")).toEqual([]);
  });

  it("when rendered, then the issue service scales with an HPA on CPU and has no fixed replica count", () => {
    const [hpa] = byKind(objects, "HorizontalPodAutoscaler");
    expect(hpa?.spec).toMatchObject({
      scaleTargetRef: { kind: "Deployment", name: "coupon-platform-issue" },
    });
    expect(
      specOf<{ replicas?: number }>(objects, "Deployment", "coupon-platform-issue").replicas,
    ).toBeUndefined();
  });

  it("when rendered, then the protected routes need a JWT and the public ones do not", () => {
    const matches = (name: string) =>
      specOf<{ rules: { matches: { method: string; path: { value: string } }[] }[] }>(
        objects,
        "HTTPRoute",
        name,
      )
        .rules.flatMap((rule) => rule.matches)
        .map((m) => `${m.method} ${m.path.value}`)
        .sort();
    expect(matches("coupon-platform-gateway-public")).toEqual([
      "GET /.well-known/jwks.json",
      "GET /coupons/",
      "POST /users/login",
      "POST /users/sign-up",
    ]);
    expect(matches("coupon-platform-gateway-protected")).toEqual([
      "GET /users/",
      "PATCH /coupons/",
      "POST /coupon-issues",
      "POST /coupons",
      "POST /events",
    ]);
    const [policy] = byKind(objects, "SecurityPolicy");
    expect(policy?.spec).toMatchObject({
      targetRefs: [{ kind: "HTTPRoute", name: "coupon-platform-gateway-protected" }],
      jwt: {
        providers: [
          {
            remoteJWKS: {
              uri: "http://coupon-platform-user.coupon.svc.cluster.local:8081/.well-known/jwks.json",
              backendRefs: [{ kind: "Service", name: "coupon-platform-user", port: 8081 }],
            },
            claimToHeaders: [{ claim: "sub", header: "x-user-id" }],
          },
        ],
      },
    });
    // The header is stripped from every client request before the JWT filter sets it.
    const [clientPolicy] = byKind(objects, "ClientTrafficPolicy");
    expect(clientPolicy?.spec).toMatchObject({ headers: { earlyRequestHeaders: { remove: ["x-user-id"] } } });
  });

  it("when rendered, then the user service accepts the gateway, coupon and issue, and the consumer accepts nobody", () => {
    const ingress = (name: string) =>
      specOf<{ ingress: { from: { podSelector?: { matchLabels: Record<string, string> } }[] }[] }>(
        objects,
        "NetworkPolicy",
        name,
      ).ingress;
    const callers = (name: string) =>
      ingress(name)
        .flatMap((rule) => rule.from)
        .map(
          (peer) =>
            peer.podSelector?.matchLabels["app.kubernetes.io/component"] ??
            peer.podSelector?.matchLabels["app.kubernetes.io/name"],
        )
        .sort();
    expect(callers("coupon-platform-user")).toEqual(["coupon", "issue", "proxy"]);
    expect(callers("coupon-platform-coupon")).toEqual(["issue", "proxy"]);
    expect(callers("coupon-platform-issue")).toEqual(["proxy"]);
    expect(ingress("coupon-platform-issue-consumer")).toEqual([]);
  });
});

describe("bad values", () => {
  const refused = (set: string[]) => {
    const result = template({ set });
    return { status: result.status, message: result.stderr };
  };

  it("when a replica count is negative, then the schema refuses it", () => {
    const { status, message } = refused(["user.replicaCount=-1"]);
    expect(status).not.toBe(0);
    expect(message).toMatch(/values don't meet the specifications of the schema/);
    expect(message).toMatch(/replicaCount/);
  });

  it("when a key is unknown, then the schema refuses it", () => {
    const { status, message } = refused(["user.replicas=3"]);
    expect(status).not.toBe(0);
    expect(message).toMatch(/additional properties 'replicas' not allowed/);
  });

  it("when an unknown key sits at the top, then the schema refuses it", () => {
    expect(refused(["replicaCount=2"]).status).not.toBe(0);
  });

  it("when an extra variable name is not an environment variable name, then the schema refuses it", () => {
    expect(refused(["issue.env.relay-batch=5"]).status).not.toBe(0);
  });

  it("when helm lint --strict sees the negative replica count, then it fails too", () => {
    expect(lintFails(["user.replicaCount=-1"])).toBe(true);
  });

  it("when the database Secret is not named, then validateValues stops the release", () => {
    const { status, message } = refused(["database.existingSecret="]);
    expect(status).not.toBe(0);
    expect(message).toMatch(/database.existingSecret/);
  });

  it("when both Sentinels and a Redis URL are given, then validateValues stops the release", () => {
    const { status, message } = refused(["redis.url=redis://r:6379"]);
    expect(status).not.toBe(0);
    expect(message).toMatch(/not both/);
  });

  it("when the services' shutdown deadline outlasts the grace period, then validateValues stops the release", () => {
    const { status, message } = refused(["config.shutdownDeadlineMs=40000"]);
    expect(status).not.toBe(0);
    expect(message).toMatch(/shutdownDeadlineMs/);
  });
});

function lintFails(set: string[]): boolean {
  return lint({ set }).status !== 0;
}

describe("values.yaml documentation", () => {
  it("when a value is a leaf of values.yaml, then it has a ## @param line", () => {
    const text = readFileSync(path.join(chartDir, "values.yaml"), "utf8");
    const documented = new Set([...text.matchAll(/^## @param (\S+)/gm)].map((m) => m[1]));
    const leaves: string[] = [];
    const walk = (value: unknown, at: string) => {
      if (value && typeof value === "object" && !Array.isArray(value) && Object.keys(value).length > 0) {
        for (const [key, child] of Object.entries(value)) walk(child, at ? `${at}.${key}` : key);
      } else leaves.push(at);
    };
    walk(parse(text), "");
    // A documented parent (e.g. user.resources) covers the keys below it.
    const undocumented = leaves.filter((leaf) => {
      const parts = leaf.split(".");
      return !parts.some((_, i) => documented.has(parts.slice(0, i + 1).join(".")));
    });
    expect(undocumented).toEqual([]);
  });
});
