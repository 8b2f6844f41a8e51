// Reads prisma/schema.prisma through Prisma's own parser (the wasm build bundled in
// @prisma/internals: no engine binary, no network).
import { readFile } from "node:fs/promises";
import path from "node:path";
import prismaInternals from "@prisma/internals";
import { type DmmfDatamodel, describePrismaSchema, type SchemaDescription } from "./schema-drift.ts";

export const schemaPath = path.resolve(import.meta.dirname, "..", "prisma", "schema.prisma");

export async function readSchemaFile(): Promise<string> {
  return readFile(schemaPath, "utf8");
}

export async function describeSchemaText(datamodel: string): Promise<SchemaDescription> {
  const dmmf = await prismaInternals.getDMMF({ datamodel });
  return describePrismaSchema(dmmf.datamodel as DmmfDatamodel);
}
