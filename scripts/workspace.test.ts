// The workspace's shape: what a package's source imports, its package.json must list among the
// dependencies a production install keeps (a devDependency imported from src/ resolves in the
// repository and breaks in the image), and no workspace package depends on itself through others.
import { readdirSync, readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { join, relative } from "node:path";
import { repoRoot } from "@coupon/testing";
import { describe, expect, it } from "vitest";

interface Manifest {
  name: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

interface WorkspacePackage {
  dir: string;
  manifest: Manifest;
}

function workspacePackages(): WorkspacePackage[] {
  return ["packages", "services"].flatMap((group) =>
    readdirSync(join(repoRoot, group), { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => join(repoRoot, group, entry.name))
      .map((dir) => ({
        dir,
        manifest: JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as Manifest,
      })),
  );
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts"))
    .map((entry) => join(entry.parentPath, entry.name))
    .filter((file) => !file.includes(`${join("src", "generated")}`));
}

const IMPORT_SPECIFIERS = [
  /^\s*(?:import|export)\b[^;]*?\bfrom\s+"([^"]+)"/gm,
  /^\s*import\s+"([^"]+)"/gm,
  /\bimport\(\s*"([^"]+)"\s*\)/g,
];

/** The package a bare specifier names: "@scope/name/sub" → "@scope/name", "name/sub" → "name". */
function packageOf(specifier: string): string | undefined {
  if (specifier.startsWith(".") || specifier.startsWith("node:") || builtinModules.includes(specifier)) {
    return undefined;
  }
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
}

function importedPackages(source: string): Set<string> {
  const names = new Set<string>();
  for (const pattern of IMPORT_SPECIFIERS) {
    for (const match of source.matchAll(pattern)) {
      const name = packageOf(match[1] as string);
      if (name !== undefined) names.add(name);
    }
  }
  return names;
}

describe("the workspace", () => {
  const packages = workspacePackages();

  it("finds the imports of a source file", () => {
    const source = [
      'import { a } from "@coupon/http";',
      'import type { B } from "express";',
      'import {\n  c,\n  d,\n} from "zod/mini";',
      'export { e } from "./local.ts";',
      'import "@coupon/telemetry/register";',
      'const f = await import("@opentelemetry/sdk-node");',
      'import { readFile } from "node:fs/promises";',
      'import { EventEmitter } from "events";',
    ].join("\n");
    expect([...importedPackages(source)].sort()).toEqual([
      "@coupon/http",
      "@coupon/telemetry",
      "@opentelemetry/sdk-node",
      "express",
      "zod",
    ]);
  });

  it.each(packages.map((p) => [relative(repoRoot, p.dir), p] as const))(
    "%s: src/ imports only what its dependencies list",
    (_name, { dir, manifest }) => {
      const declared = new Set([manifest.name, ...Object.keys(manifest.dependencies ?? {})]);
      const undeclared = sourceFiles(join(dir, "src")).flatMap((file) =>
        [...importedPackages(readFileSync(file, "utf8"))]
          .filter((name) => !declared.has(name))
          .map((name) => `${relative(dir, file)} imports ${name}`),
      );
      expect(undeclared).toEqual([]);
    },
  );

  it("has no cycle among its packages' dependencies", () => {
    const byName = new Map(packages.map((p) => [p.manifest.name, p.manifest]));
    const workspaceDeps = (manifest: Manifest): string[] =>
      Object.keys({ ...manifest.dependencies, ...manifest.devDependencies }).filter((name) =>
        byName.has(name),
      );
    const cycles: string[] = [];
    const visit = (name: string, path: string[]): void => {
      if (path.includes(name)) {
        cycles.push([...path.slice(path.indexOf(name)), name].join(" → "));
        return;
      }
      for (const dep of workspaceDeps(byName.get(name) as Manifest)) visit(dep, [...path, name]);
    };
    for (const name of byName.keys()) visit(name, []);
    expect(cycles).toEqual([]);
  });
});
