import type { VerifiedCheckpoint } from "./cosignedCheckpoint";

/**
 * A cosigned checkpoint as the auditor came by it: verified against the federation file, with where
 * it came from (a node's address, or the auditor's state) and when, by the auditor's clock. The
 * source and time are for people reading a report or evidence; nothing is decided on them.
 */
export interface ObservedCheckpoint {
  readonly verified: VerifiedCheckpoint;
  readonly source: string;
  /** ISO 8601. */
  readonly observedAt: string;
}

/** "size 12 (root abc…=)" for messages. */
export function describeCheckpoint(checkpoint: VerifiedCheckpoint): string {
  return `size ${checkpoint.checkpoint.size} (root ${checkpoint.checkpoint.root.toString("base64")})`;
}
