import { fieldError, fieldPath, indexPath } from "./fields";

/**
 * JSON.parse, plus a rejection of duplicate object keys. JSON.parse keeps the last of two equal keys
 * without a word, so a file showing `"pdqDistanceMax": 31` near the top could mean 63 further down:
 * the people who review and agree to a federation file must read what the nodes will run.
 */
export function parseJsonStrict(text: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw fieldError("", `is not valid JSON: ${reason}${lineAndColumn(text, reason)}`);
  }
  checkDuplicateKeys(text);
  return value;
}

/** " (line L, column C)" for a V8 message that gives "position N", so an editor can jump there. */
function lineAndColumn(text: string, reason: string): string {
  const match = /position (\d+)/.exec(reason);
  if (match === null) return "";
  const position = Number(match[1]);
  const before = text.slice(0, position);
  const line = before.split("\n").length;
  const column = position - before.lastIndexOf("\n");
  return ` (line ${line}, column ${column})`;
}

type Frame =
  | { kind: "object"; path: string; keys: Set<string>; key: string | undefined; expectingKey: boolean }
  | { kind: "array"; path: string; index: number };

/**
 * Walks text that JSON.parse accepted and throws at the first duplicate key, naming its path. Only
 * structure matters here, so numbers, literals and whitespace are skipped; strings are skipped as a
 * whole so that braces inside them are not structure. Keys are compared decoded ("\u0061" is "a").
 */
function checkDuplicateKeys(text: string): void {
  const stack: Frame[] = [];
  const currentPath = (): string => {
    const top = stack[stack.length - 1];
    if (top === undefined) return "";
    if (top.kind === "array") return indexPath(top.path, top.index);
    return top.key === undefined ? top.path : fieldPath(top.path, top.key);
  };
  let offset = 0;
  while (offset < text.length) {
    const character = text[offset]!;
    const top = stack[stack.length - 1];
    if (character === "{") stack.push({ kind: "object", path: currentPath(), keys: new Set(), key: undefined, expectingKey: true });
    else if (character === "[") stack.push({ kind: "array", path: currentPath(), index: 0 });
    else if (character === "}" || character === "]") stack.pop();
    else if (character === "," && top?.kind === "object") top.expectingKey = true;
    else if (character === "," && top?.kind === "array") top.index++;
    else if (character === '"') {
      const end = stringEnd(text, offset);
      if (top?.kind === "object" && top.expectingKey) {
        const key = JSON.parse(text.slice(offset, end)) as string;
        if (top.keys.has(key)) throw fieldError(fieldPath(top.path, key), "appears twice in the same object");
        top.keys.add(key);
        top.key = key;
        top.expectingKey = false;
      }
      offset = end;
      continue;
    }
    offset++;
  }
}

/** The offset just past the closing quote of the string literal that opens at `start`. */
function stringEnd(text: string, start: number): number {
  let offset = start + 1;
  while (text[offset] !== '"') offset += text[offset] === "\\" ? 2 : 1;
  return offset + 1;
}
