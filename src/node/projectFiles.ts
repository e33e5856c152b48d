import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";

/** The project's root: the folder holding package.json, from the sources or the compiled dist/. */
export function projectRoot(): string {
  let folder = __dirname;
  while (!existsSync(join(folder, "package.json"))) {
    const parent = dirname(folder);
    if (parent === folder) throw new Error(`no package.json above ${__dirname}`);
    folder = parent;
  }
  return folder;
}

export function protoFolder(): string {
  return join(projectRoot(), "proto");
}

export function packageVersion(): string {
  return (JSON.parse(readFileSync(join(projectRoot(), "package.json"), "utf8")) as { version: string }).version;
}
