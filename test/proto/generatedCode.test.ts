/**
 * The committed ts-proto output is what `npm run proto` makes of proto/ today, and making it leaves
 * the rest of src/gen alone. buf runs from node_modules into a temporary folder: the tree is not touched.
 */
import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

const ROOT = path.resolve(__dirname, "../..");
const BUF = path.join(ROOT, "node_modules/.bin/buf");

let output: string;

beforeAll(() => {
  output = mkdtempSync(path.join(tmpdir(), "hashfed-proto-"));
  // A file already under src/gen that buf does not write, as src/gen/wasm is in the tree.
  cpSync(path.join(ROOT, "src/gen/wasm"), path.join(output, "src/gen/wasm"), { recursive: true });
  execFileSync(BUF, ["generate", "--output", output], { cwd: ROOT, stdio: "pipe" });
});

afterAll(() => rmSync(output, { recursive: true, force: true }));

function filesUnder(root: string, folder: string): string[] {
  return readdirSync(path.join(root, folder), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(root, path.join(entry.parentPath, entry.name)))
    .sort();
}

describe("the generated protobuf code (npm run proto)", () => {
  test("src/gen/hashfed holds exactly what buf generates from proto/", () => {
    const generated = filesUnder(output, "src/gen/hashfed");
    expect(filesUnder(ROOT, "src/gen/hashfed")).toEqual(generated);
    for (const file of generated) expect({ file, text: readFileSync(path.join(ROOT, file), "utf8") }).toEqual({ file, text: readFileSync(path.join(output, file), "utf8") });
  });

  test("generating keeps the other generated files under src/gen", () => {
    expect(filesUnder(output, "src/gen/wasm")).toEqual(filesUnder(ROOT, "src/gen/wasm"));
  });
});
