// Prisma 7 reads the schema location from here. Only `prisma generate` is used (offline, see
// scripts/generate.ts); migrations are plain SQL applied by dbmate, so no datasource URL is needed.
import { defineConfig } from "prisma/config";

export default defineConfig({
  schema: "prisma/schema.prisma",
});
