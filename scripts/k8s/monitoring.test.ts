// The chart's alerts and dashboard speak of metrics the services really serve: every metric an
// expression names is registered somewhere in the services' or packages' code, so renaming one
// breaks this test instead of silencing an alert.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { type K8sObject, render, repoRoot } from "./helm.ts";

const objects = render({ valuesFiles: ["charts/coupon-platform/ci/all-features-values.yaml"] });

/** Every prom-client metric name in the source (`name: "..."` next to help text), and the defaults. */
function registeredMetrics(): Set<string> {
  const names = new Set<string>();
  const visit = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name === "node_modules" || entry.name === "generated" || entry.name === "test") continue;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) visit(full);
      else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts")) {
        for (const match of readFileSync(full, "utf8").matchAll(/name: "([a-z_]+)",\s*\n\s*help:/g))
          names.add(match[1] as string);
      }
    }
  };
  for (const root of ["services", "packages"]) visit(path.join(repoRoot, root));
  return names;
}

/** Metric names in a PromQL expression: identifiers with a metric's suffix, without the series suffixes. */
function metricsIn(expression: string): string[] {
  const found =
    expression.match(/\b[a-z][a-z0-9_]*_(total|seconds|records|entries|size)(_bucket|_count|_sum)?\b/g) ?? [];
  return [...new Set(found.map((name) => name.replace(/_(bucket|count|sum)$/, "")))];
}

function only(kind: string): K8sObject {
  const found = objects.filter((o) => o.kind === kind);
  expect(found).toHaveLength(1);
  return found[0] as K8sObject;
}

describe("alerts and dashboard", () => {
  const registered = registeredMetrics();

  it("when the rules are rendered, then there is an alert for each thing an operator must hear of, on metrics the services serve", () => {
    const { groups } = only("PrometheusRule").spec as {
      groups: { rules: { alert: string; expr: string }[] }[];
    };
    const rules = groups.flatMap((group) => group.rules);
    expect(rules.map((rule) => rule.alert).sort()).toEqual([
      "CouponConsumerLagGrowing",
      "CouponDeadLettersParked",
      "CouponIssuanceErrors",
      "CouponOutboxBacklogOld",
      "CouponWriteBackStale",
    ]);
    for (const rule of rules) {
      const named = metricsIn(rule.expr);
      expect(named.length, rule.alert).toBeGreaterThan(0);
      expect(
        named.filter((name) => !registered.has(name)),
        rule.alert,
      ).toEqual([]);
    }
  });

  it("when the dashboard is rendered, then it is Grafana JSON in a ConfigMap with the sidecar's label, and every panel queries metrics the services serve", () => {
    const configMap = objects.find((o) => o.kind === "ConfigMap" && o.metadata.name?.endsWith("-dashboard"));
    expect(configMap?.metadata.labels?.grafana_dashboard).toBe("1");
    const dashboard = JSON.parse(
      (configMap?.data as Record<string, string> | undefined)?.["coupon-platform.json"] ?? "",
    ) as {
      uid: string;
      panels: { title: string; targets: { expr: string }[] }[];
    };
    expect(dashboard.uid).toBe("coupon-platform");
    expect(dashboard.panels.length).toBeGreaterThan(0);
    for (const panel of dashboard.panels) {
      const named = panel.targets.flatMap((target) => metricsIn(target.expr));
      expect(named.length, panel.title).toBeGreaterThan(0);
      expect(
        named.filter((name) => !registered.has(name)),
        panel.title,
      ).toEqual([]);
    }
  });

  it("when a metric is renamed in an expression, then the check names it", () => {
    expect(metricsIn("max(outbox_oldest_entry_age_secs) > 60")).toEqual([]);
    expect(metricsIn("sum(rate(issue_consumer_records_dead_lettered_totals[5m]))")).toEqual([]);
    expect(registered.has("outbox_oldest_entry_age_seconds")).toBe(true);
    expect(registered.has("http_request_duration_seconds")).toBe(true);
    expect(metricsIn("histogram_quantile(0.99, rate(http_request_duration_seconds_bucket[5m]))")).toEqual([
      "http_request_duration_seconds",
    ]);
  });
});
