import { readFileSync } from "node:fs";

const LUA_DIR = new URL("../../../lua/", import.meta.url);

/** The source of a script in the repository's lua/ folder (see lua/README.md for the conventions). */
export function luaScript(fileName: string): string {
  return readFileSync(new URL(fileName, LUA_DIR), "utf8");
}
