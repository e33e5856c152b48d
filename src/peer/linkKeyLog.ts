import { closeSync, constants, fstatSync, openSync, writeSync } from "node:fs";
import { invalid } from "../errors";
import type { LinkKeys } from "./linkCipher";

/**
 * A peer link key log, for reading captured peer traffic while debugging, as SSLKEYLOGFILE is for
 * TLS: with HASHFED_PEER_KEY_LOG set, a node appends one line per link it opens or accepts. Whoever
 * reads the file can read those links (reveals included): it must be owner-only, and is never written by default.
 * A line: `HASHFED_PEER_LINK <caller's nonce> <caller-to-callee key> <callee-to-caller key>`, in hex;
 * the caller's nonce is in the link's first frame, the caller's hello.
 */
const TAG = "HASHFED_PEER_LINK";

export function linkKeyLogLine(callerNonce: Uint8Array, keys: LinkKeys): string {
  return `${TAG} ${Buffer.from(callerNonce).toString("hex")} ${keys.callerToCallee.toString("hex")} ${keys.calleeToCaller.toString("hex")}\n`;
}

/** The keys of the link whose caller sent `callerNonce`, from a key log's text; undefined if not in it. */
export function findLinkKeys(log: string, callerNonce: Uint8Array): LinkKeys | undefined {
  const nonce = Buffer.from(callerNonce).toString("hex");
  for (const line of log.split("\n")) {
    const [tag, lineNonce, callerToCallee, calleeToCaller] = line.split(" ");
    if (tag === TAG && lineNonce === nonce && callerToCallee !== undefined && calleeToCaller !== undefined) {
      return { callerToCallee: Buffer.from(callerToCallee, "hex"), calleeToCaller: Buffer.from(calleeToCaller, "hex") };
    }
  }
  return undefined;
}

/**
 * The key log file a node appends to, opened once at start: a regular file only its owner can
 * read (refused otherwise, and never through a symbolic link, since whoever reads it reads the
 * links). A write that fails is logged once and the log stops: the node goes on without it.
 */
export class LinkKeyLogFile {
  /** False once a write failed, or the file was closed. */
  private writable = true;
  /** False once closed: a node stopped twice closes it once. */
  private open = true;

  private constructor(
    private readonly fd: number,
    private readonly path: string,
    private readonly log: (line: string) => void,
  ) {}

  static open(path: string, log: (line: string) => void): LinkKeyLogFile {
    let fd: number;
    try {
      fd = openSync(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
    } catch (error) {
      throw invalid("KEY_LOG_UNUSABLE", `cannot open the peer key log ${path} (HASHFED_PEER_KEY_LOG): ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    }
    const stats = fstatSync(fd);
    if (!stats.isFile() || (stats.mode & 0o077) !== 0 || (process.getuid !== undefined && stats.uid !== process.getuid())) {
      closeSync(fd);
      throw invalid("KEY_LOG_UNUSABLE", `the peer key log ${path} (HASHFED_PEER_KEY_LOG) must be a regular file of this user's that only it can read (chmod 600)`);
    }
    log(`peer link keys are written to ${path} (HASHFED_PEER_KEY_LOG): whoever reads it can read this node's peer traffic, reveals included`);
    return new LinkKeyLogFile(fd, path, log);
  }

  append(line: string): void {
    if (!this.writable) return;
    try {
      writeSync(this.fd, line);
    } catch (error) {
      this.writable = false;
      this.log(`the peer key log ${this.path} could not be written (${(error as NodeJS.ErrnoException).code ?? String(error)}); no more link keys go to it`);
    }
  }

  close(): void {
    if (!this.open) return;
    this.open = false;
    this.writable = false;
    closeSync(this.fd);
  }
}
