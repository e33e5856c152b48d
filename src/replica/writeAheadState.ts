import { assert } from "../assert";
import type { RoundState } from "../consensus";
import { Step } from "../consensus";
import { ConsensusState } from "../gen/hashfed/v1/store";
import type { KeyValueStore, WriteOperation } from "../store/keyValueStore";

/** What a validator signs in a round: ordered as it happens within a round. */
export type SignedKind = "proposal" | "prevote" | "precommit";
const KIND_ORDER: Readonly<Record<SignedKind, number>> = { proposal: 0, prevote: 1, precommit: 2 };

export interface Slot {
  readonly height: bigint;
  readonly round: number;
  readonly kind: SignedKind;
}

/**
 * W | 0x00 -> ConsensusState;  W | 0x01 | u64 height | u32 round | u8 kind -> the signed PeerMessage;
 * W | 0x02 | u64 height | u32 round | u8 kind -> the encoded Batch a proposal names or a precommit locks on.
 */
const PREFIX = 0x57;
const STATE_KEY = Buffer.from([PREFIX, 0x00]);
const MESSAGE = 0x01;
const BATCH = 0x02;

/**
 * The write-ahead state of a validator's consensus: every message it signs, and its round state,
 * written durably (one synced write) before the message leaves the node. It is also the
 * double-sign guard: a slot (height, round, kind) holds at most one message, and asking to sign a
 * slot again yields the stored message, never a second signature.
 *
 * Signatures only move forward: a validator signs slots in increasing (height, round, kind) order,
 * so it never signs a slot at or below the highest slot it holds a message for (CometBFT's
 * LastSigned rule). A node restored from an old copy of its disk does not know what it signed after
 * that copy; it learns from its peers, who send it back its own messages: each one it did not know
 * of is adopted (recorded as signed), which raises that bar past everything it had signed.
 *
 * A proposal names its batch by reference, and the statements in it live in memory only, so the
 * batch is recorded with the proposal, and with a precommit for it (a lock): after a restart of
 * every node, a validator locked on a batch must still be able to show it, or no other batch could
 * gather a quorum at that height.
 */
export class WriteAheadState {
  private readonly messages = new Map<string, Buffer>();
  /** The batches recorded with proposals and precommits, by slot name. */
  private readonly batches = new Map<string, Buffer>();
  /** The highest slot holding a message, recorded or adopted. */
  private highest: Slot | undefined;
  /** Deletions of forgotten slots, written with the next record (see forgetBelow). */
  private forgotten: WriteOperation[] = [];

  private constructor(
    private readonly kv: KeyValueStore,
    private state: RoundState | undefined,
  ) {}

  static async open(kv: KeyValueStore): Promise<WriteAheadState> {
    const stateBytes = await kv.get(STATE_KEY);
    const wal = new WriteAheadState(kv, stateBytes === undefined ? undefined : decodeState(stateBytes));
    for await (const [key, value] of kv.entries({ gte: Buffer.from([PREFIX, MESSAGE]), lt: Buffer.from([PREFIX, MESSAGE + 1]) })) {
      const slot = parseSlotKey(key);
      wal.messages.set(slotName(slot), value);
      wal.raise(slot);
    }
    for await (const [key, value] of kv.entries({ gte: Buffer.from([PREFIX, BATCH]), lt: Buffer.from([PREFIX, BATCH + 1]) })) {
      wal.batches.set(slotName(parseSlotKey(key)), value);
    }
    return wal;
  }

  /** The round state saved with the last signature, if any. */
  get roundState(): RoundState | undefined {
    return this.state;
  }

  signedAt(slot: Slot): Buffer | undefined {
    return this.messages.get(slotName(slot));
  }

  /** The messages signed at `height`, in slot order: what a restarted node sends again. */
  signedAtHeight(height: bigint): Buffer[] {
    return [...this.messages.entries()]
      .map(([name, message]) => ({ slot: parseSlotName(name), message }))
      .filter(({ slot }) => slot.height === height)
      .sort((a, b) => compareSlots(a.slot, b.slot))
      .map(({ message }) => message);
  }

  /** The batches recorded at `height`: what a restarted validator may need to propose or show again. */
  batchesAtHeight(height: bigint): Buffer[] {
    return [...this.batches.entries()].filter(([name]) => parseSlotName(name).height === height).map(([, batch]) => batch);
  }

  /** Whether a new signature may be made for `slot`: only above every slot already holding a message. */
  maySign(slot: Slot): boolean {
    return this.highest === undefined || compareSlots(slot, this.highest) > 0;
  }

  /**
   * Records a message signed for `slot` and the round state after it, durably, before it is sent;
   * with the batch a proposal names (always) or a precommit locks on (unless recorded already).
   */
  async record(slot: Slot, message: Buffer, state: RoundState, batch?: Buffer): Promise<void> {
    assert(this.maySign(slot), "a slot is signed once");
    assert(slot.kind === "proposal" ? batch !== undefined : slot.kind === "precommit" || batch === undefined, "a proposal is recorded with its batch, a prevote without one");
    await this.write([
      { type: "put", key: slotKey(slot, MESSAGE), value: message },
      ...(batch === undefined ? [] : [{ type: "put" as const, key: slotKey(slot, BATCH), value: batch }]),
      { type: "put", key: STATE_KEY, value: encodeState(state) },
    ]);
    if (batch !== undefined) this.batches.set(slotName(slot), batch);
    this.messages.set(slotName(slot), message);
    this.raise(slot);
    this.state = state;
  }

  /**
   * Records a message of this validator's that came back from the network without being in the
   * write-ahead state: proof that this state is older than what was signed. Returns false when the
   * slot already holds that message.
   */
  async adopt(slot: Slot, message: Buffer): Promise<boolean> {
    const known = this.messages.get(slotName(slot));
    if (known !== undefined) return false;
    await this.write([{ type: "put", key: slotKey(slot, MESSAGE), value: message }]);
    this.messages.set(slotName(slot), message);
    this.raise(slot);
    return true;
  }

  /** One synced write of `operations`, with the deletions forgotten since the last. */
  private async write(operations: WriteOperation[]): Promise<void> {
    const forgotten = this.forgotten;
    this.forgotten = [];
    try {
      await this.kv.write([...forgotten, ...operations], { sync: true });
    } catch (error) {
      this.forgotten = [...forgotten, ...this.forgotten];
      throw error;
    }
  }

  private raise(slot: Slot): void {
    if (this.highest === undefined || compareSlots(slot, this.highest) > 0) this.highest = slot;
  }

  /**
   * Drops the messages of heights below `height`: they are decided, nothing signs them again. Their
   * deletions go to disk with the next record rather than in a write of their own, which had cost
   * a write per height and held the next height's early messages until it completed. Slots left on
   * disk by a crash before then are found at the next start and forgotten again; `highest` never
   * goes down, so no deletion lets a slot be signed twice.
   */
  forgetBelow(height: bigint): void {
    for (const [records, space] of [
      [this.messages, MESSAGE],
      [this.batches, BATCH],
    ] as const) {
      for (const name of [...records.keys()]) {
        const slot = parseSlotName(name);
        if (slot.height >= height) continue;
        records.delete(name);
        this.forgotten.push({ type: "del", key: slotKey(slot, space) });
      }
    }
  }
}

/** Slots in signing order: by height, then round, then proposal, prevote, precommit. */
export function compareSlots(a: Slot, b: Slot): number {
  if (a.height !== b.height) return a.height < b.height ? -1 : 1;
  if (a.round !== b.round) return a.round - b.round;
  return KIND_ORDER[a.kind] - KIND_ORDER[b.kind];
}

function slotKey(slot: Slot, space: typeof MESSAGE | typeof BATCH): Buffer {
  const key = Buffer.alloc(2 + 8 + 4 + 1);
  key[0] = PREFIX;
  key[1] = space;
  key.writeBigUInt64BE(slot.height, 2);
  key.writeUInt32BE(slot.round, 10);
  key[14] = KIND_ORDER[slot.kind];
  return key;
}

function parseSlotKey(key: Buffer): Slot {
  const kind = (Object.keys(KIND_ORDER) as SignedKind[]).find((name) => KIND_ORDER[name] === key[14])!;
  return { height: key.readBigUInt64BE(2), round: key.readUInt32BE(10), kind };
}

function slotName(slot: Slot): string {
  return `${slot.height}/${slot.round}/${slot.kind}`;
}

function parseSlotName(name: string): Slot {
  const [height, round, kind] = name.split("/") as [string, string, SignedKind];
  return { height: BigInt(height), round: Number(round), kind };
}

function encodeState(state: RoundState): Buffer {
  return Buffer.from(
    ConsensusState.encode({
      height: state.height,
      round: state.round,
      step: state.step,
      lockedValue: state.lockedValue === null ? Buffer.alloc(0) : Buffer.from(state.lockedValue, "hex"),
      lockedRound: state.lockedRound,
      validValue: state.validValue === null ? Buffer.alloc(0) : Buffer.from(state.validValue, "hex"),
      validRound: state.validRound,
    }).finish(),
  );
}

function decodeState(bytes: Buffer): RoundState {
  const state = ConsensusState.decode(bytes);
  return {
    height: state.height,
    round: state.round,
    step: state.step as Step,
    lockedValue: state.lockedValue.length === 0 ? null : Buffer.from(state.lockedValue).toString("hex"),
    lockedRound: state.lockedRound,
    validValue: state.validValue.length === 0 ? null : Buffer.from(state.validValue).toString("hex"),
    validRound: state.validRound,
  };
}
