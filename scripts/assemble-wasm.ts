/**
 * Assembles the project's WebAssembly text sources into their generated TypeScript files
 * (scripts/wasmModules.ts lists them). Usage: npm run wasm
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { generatedWasmFile, WASM_MODULES } from "./wasmModules";

async function main(): Promise<void> {
  const root = join(__dirname, "..", "..");
  for (const source of WASM_MODULES) {
    writeFileSync(join(root, source.generated), await generatedWasmFile(root, source));
    console.log(`${source.wat} -> ${source.generated}`);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
