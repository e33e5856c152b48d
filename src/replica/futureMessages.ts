import type { PeerMessage } from "../gen/hashfed/v1/peer";

/** One kept message: who sent it, who signed it. */
export interface KeptMessage {
  readonly from: string;
  readonly signer: string;
  readonly message: PeerMessage;
}

/**
 * The signed messages of the next height that a replica keeps until it gets there, bounded in all
 * and per signer: one validator flooding signed messages of many rounds can neither crowd out the
 * others' nor keep a restored validator from learning what it signed there (the kept messages of a
 * listening validator go back to it). A copy of a message already kept is not kept again, except
 * that the signer's own copy replaces a relay's: only the proposer's batch reference is taken as is.
 */
export class FutureMessages {
  private kept = new Map<string, KeptMessage>();
  private perSigner = new Map<string, number>();

  constructor(
    private readonly totalMax: number,
    private readonly perSignerMax: number,
  ) {}

  /** Keeps `message`, signed by `signer` with `signature`, unless full; returns whether it is held now. */
  keep(from: string, signer: string, signature: Uint8Array, message: PeerMessage): boolean {
    const key = Buffer.from(signature.buffer, signature.byteOffset, signature.byteLength).toString("base64");
    const held = this.kept.get(key);
    if (held !== undefined) {
      if (from === signer && held.from !== signer) this.kept.set(key, { from, signer, message });
      return true;
    }
    const count = this.perSigner.get(signer) ?? 0;
    if (this.kept.size >= this.totalMax || count >= this.perSignerMax) return false;
    this.perSigner.set(signer, count + 1);
    this.kept.set(key, { from, signer, message });
    return true;
  }

  get size(): number {
    return this.kept.size;
  }

  /** The kept messages `signer` signed. */
  signedBy(signer: string): PeerMessage[] {
    return [...this.kept.values()].filter((kept) => kept.signer === signer).map((kept) => kept.message);
  }

  /** Every kept message, in the order kept; the store is then empty. */
  take(): KeptMessage[] {
    const all = [...this.kept.values()];
    this.kept = new Map();
    this.perSigner = new Map();
    return all;
  }
}
