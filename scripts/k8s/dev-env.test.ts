// k8s-dev/ (the kind environment), skaffold.yaml and the Tiltfile, checked offline: every manifest
// valid against the Kubernetes schemas and the Strimzi/Gateway API CRDs, the KafkaTopics equal to the
// topics the code defines, and skaffold/Tilt deploying the same chart with images that exist.
import { readFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { TOPICS } from "../../packages/kafka/src/topics.ts";
import { chartDir, helm, type K8sObject, parseManifests, repoRoot } from "./helm.ts";
import { createValidator, type Validator } from "./validate.ts";

const read = (file: string) => readFileSync(path.join(repoRoot, file), "utf8");
const manifests = (file: string) => parseManifests(read(file), file);

let validator: Validator;
beforeAll(async () => {
  validator = await createValidator();
});

describe("k8s-dev manifests", () => {
  it.each(["k8s-dev/kafka.yaml", "k8s-dev/mariadb.yaml", "k8s-dev/gatewayclass.yaml"])(
    "when %s is read, then every object validates",
    (file) => {
      const objects = manifests(file);
      expect(objects.length).toBeGreaterThan(0);
      expect(
        objects.flatMap((o) => validator.problems(o).map((p) => `${o.kind}/${o.metadata.name}: ${p}`)),
      ).toEqual([]);
    },
  );

  it("when the KafkaTopics are compared with packages/kafka's TOPICS, then they agree", () => {
    const topics = manifests("k8s-dev/kafka.yaml")
      .filter((o) => o.kind === "KafkaTopic")
      .map((o) => {
        const spec = o.spec as {
          topicName?: string;
          partitions: number;
          config?: Record<string, string | number>;
        };
        return {
          name: spec.topicName ?? o.metadata.name,
          numPartitions: spec.partitions,
          configs: Object.fromEntries(Object.entries(spec.config ?? {}).map(([k, v]) => [k, String(v)])),
        };
      });
    const expected = TOPICS.map((t) => ({
      name: t.name,
      numPartitions: t.numPartitions,
      configs: { ...(t.configs ?? {}) },
    }));
    expect(topics).toEqual(expected);
  });

  it("when the node pool is read, then it is a KRaft dual-role pool of the Kafka cluster with ephemeral storage", () => {
    const objects = manifests("k8s-dev/kafka.yaml");
    const kafka = objects.find((o) => o.kind === "Kafka") as K8sObject;
    const pool = objects.find((o) => o.kind === "KafkaNodePool") as K8sObject;
    expect(pool.metadata.labels?.["strimzi.io/cluster"]).toBe(kafka.metadata.name);
    expect(pool.spec).toMatchObject({ roles: ["controller", "broker"], storage: { type: "ephemeral" } });
  });

  it("when the chart's kind values are used, then they point at the k8s-dev Kafka and Redis master set", () => {
    const values = parse(read("charts/coupon-platform/values.yaml")) as {
      kafka: { brokers: string[] };
      redis: { sentinelMaster: string };
    };
    const kafka = manifests("k8s-dev/kafka.yaml").find((o) => o.kind === "Kafka") as K8sObject;
    expect(values.kafka.brokers).toEqual([
      `${kafka.metadata.name}-kafka-bootstrap.${kafka.metadata.namespace}.svc.cluster.local:9092`,
    ]);
    const redis = parse(read("k8s-dev/redis-values.yaml")) as {
      sentinel: { masterSet: string; image: { repository: string } };
      image: { repository: string };
      global: { security: { allowInsecureImages: boolean } };
    };
    expect(redis.sentinel.masterSet).toBe(values.redis.sentinelMaster);
    // Pullable after Bitnami's 2025 catalog change: the frozen legacy repository, explicitly allowed.
    expect(redis.image.repository).toMatch(/^bitnamilegacy\//);
    expect(redis.sentinel.image.repository).toMatch(/^bitnamilegacy\//);
    expect(redis.global.security.allowInsecureImages).toBe(true);
  });
});

describe("skaffold.yaml and the Tiltfile", () => {
  const skaffold = parse(read("skaffold.yaml")) as {
    build: {
      artifacts: {
        image: string;
        context: string;
        docker: { dockerfile: string; buildArgs: Record<string, string> };
      }[];
    };
    manifests: {
      helm: {
        flags: { template: string[] };
        releases: { chartPath: string; valuesFiles: string[]; setValueTemplates: Record<string, string> }[];
      };
    };
    portForward: { resourceName: string; namespace: string; port: number }[];
  };
  const services = ["user", "coupon", "issue", "issue-consumer"];

  it("when skaffold builds, then there is one artifact per service, each from the Dockerfile with its SERVICE", () => {
    expect(skaffold.build.artifacts.map((a) => [a.image, a.docker.dockerfile, a.docker.buildArgs])).toEqual(
      services.map((s) => [`coupon-${s}`, "Dockerfile", { SERVICE: s }]),
    );
  });

  it("when the Dockerfile builds a SERVICE, then its folder exists and its package has the name the Dockerfile derives", () => {
    const dockerfile = read("Dockerfile");
    expect(dockerfile).toContain(`COPY services/\${SERVICE} ./services/\${SERVICE}`);
    const derived = /^ARG PACKAGE=(.+)$/m.exec(dockerfile)?.[1];
    expect(derived).toBe(`@coupon/\${SERVICE}-service`);
    for (const service of services) {
      const { name } = JSON.parse(read(`services/${service}/package.json`)) as { name: string };
      expect(name).toBe(derived?.replace(`\${SERVICE}`, service));
    }
  });

  it("when skaffold deploys, then it renders the chart with the kind values and sets every service's image", () => {
    const [release] = skaffold.manifests.helm.releases;
    expect(path.resolve(repoRoot, release?.chartPath ?? "")).toBe(chartDir);
    expect(release?.valuesFiles).toEqual(["k8s-dev/values-kind.yaml"]);
    const values = parse(read("charts/coupon-platform/values.yaml")) as Record<
      string,
      { image?: { repository: string } }
    >;
    for (const artifact of skaffold.build.artifacts) {
      const sanitized = artifact.image.replace(/[-/.:]/g, "_");
      const key = Object.keys(values).find((k) => values[k]?.image?.repository === artifact.image);
      expect(key, `a service whose image is ${artifact.image}`).toBeDefined();
      expect(release?.setValueTemplates[`${key}.image.repository`]).toBe(`{{.IMAGE_REPO_${sanitized}}}`);
      expect(release?.setValueTemplates[`${key}.image.tag`]).toBe(
        `{{.IMAGE_TAG_${sanitized}}}@{{.IMAGE_DIGEST_${sanitized}}}`,
      );
    }
  });

  it("when skaffold and Tilt forward the gateway, then they name the Service the kind values give the Envoy proxy", () => {
    const kind = parse(read("k8s-dev/values-kind.yaml")) as {
      gateway: { envoyProxy: { serviceName: string } };
    };
    const [forward] = skaffold.portForward;
    expect(forward).toMatchObject({
      resourceName: kind.gateway.envoyProxy.serviceName,
      namespace: "envoy-gateway-system",
    });
    expect(read("Tiltfile")).toContain(`service/${kind.gateway.envoyProxy.serviceName} 8080:80`);
  });

  it("when Tilt deploys, then it renders the same chart with the same values and builds every service", () => {
    const tiltfile = read("Tiltfile");
    expect(tiltfile).toContain("helm(\n    'charts/coupon-platform'");
    expect(tiltfile).toContain("values=['k8s-dev/values-kind.yaml']");
    expect(tiltfile).toContain(`SERVICES = [${services.map((s) => `'${s}'`).join(", ")}]`);
    expect(tiltfile).toContain("dockerfile='Dockerfile',\n        build_args={'SERVICE': service},");
  });

  it("when skaffold and Tilt render the chart, then they name a Kubernetes version the chart's kubeVersion accepts", () => {
    const chart = parse(read("charts/coupon-platform/Chart.yaml")) as { kubeVersion: string };
    const floor = /^>=(\d+\.\d+\.\d+)-0$/.exec(chart.kubeVersion)?.[1];
    expect(floor, chart.kubeVersion).toBeDefined();
    expect(skaffold.manifests.helm.flags.template).toEqual([`--kube-version=${floor}`]);
    expect(read("Tiltfile")).toContain(`kube_version='${floor}',`);
    const render = (kubeVersion: string) =>
      helm([
        "template",
        "coupon-platform",
        chartDir,
        "--kube-version",
        kubeVersion,
        "-f",
        "k8s-dev/values-kind.yaml",
      ]);
    expect(render(floor as string).status).toBe(0);
    // What a helm v3 built with `go install` assumes when no version is named.
    expect(render("1.20.0").stderr).toMatch(
      /chart requires kubeVersion: >=1\.29\.0-0 which is incompatible with Kubernetes v1\.20\.0/,
    );
  });
});

describe("the validator itself", () => {
  const route = (spec: unknown): K8sObject => ({
    apiVersion: "gateway.networking.k8s.io/v1",
    kind: "HTTPRoute",
    metadata: { name: "r" },
    spec,
  });

  it("when a CRD field is misspelt, then it is reported", () => {
    expect(validator.problems(route({ parentRefs: [{ name: "g" }], rulez: [] }))).toEqual([
      "/spec must NOT have additional properties (rulez)",
    ]);
  });

  it("when a CEL rule of the CRD is broken, then it is reported", () => {
    const policy: K8sObject = {
      apiVersion: "gateway.envoyproxy.io/v1alpha1",
      kind: "SecurityPolicy",
      metadata: { name: "p" },
      spec: {
        targetRefs: [{ group: "gateway.networking.k8s.io", kind: "HTTPRoute", name: "r" }],
        jwt: {
          providers: [
            { name: "p", remoteJWKS: { uri: "http://u/jwks", backendRef: { name: "u", port: 80 } } },
          ],
        },
      },
    };
    expect(validator.problems(policy)).toEqual([
      "/spec/jwt/providers/0/remoteJWKS: BackendRefs must be used, backendRef is not supported.",
    ]);
  });

  it("when a core object has a wrong type, then kubernetes-models reports it", () => {
    const deployment: K8sObject = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "d" },
      spec: {
        replicas: "two",
        selector: {},
        template: { spec: { containers: [{ name: "c", image: "i" }] } },
      },
    };
    expect(validator.problems(deployment).join("\n")).toMatch(/replicas must be integer/);
  });

  it("when a kind has no schema, then that is an error rather than a pass", () => {
    expect(
      validator.problems({ apiVersion: "example.com/v1", kind: "Thing", metadata: { name: "t" } }),
    ).toHaveLength(1);
  });
});
