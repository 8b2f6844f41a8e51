// Runs the Prisma CLI offline: `node scripts/prisma.ts generate` (also run on `pnpm install`, as the
// package's postinstall), `node scripts/prisma.ts format`, `node scripts/prisma.ts validate`.
//
// Before any command the Prisma CLI makes sure a schema-engine binary is present, downloading it from
// binaries.prisma.sh when missing, which fails without internet. These commands need no engine (the
// schema is parsed by wasm bundled in the CLI and the generated client is Rust-free), so
// PRISMA_SCHEMA_ENGINE_BINARY points at a stand-in, and the update check and telemetry are off.
// Commands that do need the engine (migrate, db push, introspection) are not used: see migrations/.
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import path from "node:path";

const packageDir = path.resolve(import.meta.dirname, "..");
const require = createRequire(path.join(packageDir, "package.json"));
const prismaCli = path.join(path.dirname(require.resolve("prisma/package.json")), "build", "index.js");

const result = spawnSync(process.execPath, [prismaCli, ...process.argv.slice(2)], {
  cwd: packageDir,
  stdio: "inherit",
  env: {
    ...process.env,
    PRISMA_SCHEMA_ENGINE_BINARY: path.join(packageDir, "scripts", "no-schema-engine.sh"),
    PRISMA_HIDE_UPDATE_MESSAGE: "1",
    CHECKPOINT_DISABLE: "1",
  },
});
if (result.error) throw result.error;
process.exit(result.status ?? 1);
