import { type ConsensusOutput, quorumForScenario, Tendermint } from "./scenarioCore";

/**
 * Data-driven scenarios for the consensus core, in the style of etcd raft's interaction tests: a
 * file is a sequence of blocks, each one or more command lines, a `----` line, and the outputs the
 * commands caused. `# ...` lines are prose. Run with HASHFED_REWRITE=1 to rewrite the expected
 * outputs, and only commit the rewrite once you understand what changed.
 *
 * The runner plays the shell: it feeds the node's own votes and proposals back as inputs (as the
 * real shell does after signing them), and prints every output, those of the loopback included.
 *
 * Commands:
 *   init self=b validators=a,b,c,d [propose=1000 prevote=1000 precommit=1000 delta=500]
 *   start height=1 [work]            work                         state
 *   proposal round=0 value=X vr=-1 from=a
 *   valid value=X yes|no             ready height=1 round=0 value=X
 *   votes prevote|precommit round=0 value=X|nil from=a,c,d
 *   timeout propose|prevote|precommit height=1 round=0
 *   restart [work]   a fresh core resumes from the round state, and gets its own signed votes
 *                    of the height back, as the shell does from its write-ahead state
 */
export interface Block {
  readonly prose: string[];
  readonly commands: string[];
  readonly expected: string[];
}

export function parseScenario(text: string): Block[] {
  const blocks: Block[] = [];
  let prose: string[] = [];
  let commands: string[] = [];
  let expected: string[] | undefined;
  const flush = (): void => {
    if (commands.length > 0) blocks.push({ prose, commands, expected: expected ?? [] });
    prose = [];
    commands = [];
    expected = undefined;
  };
  for (const line of text.split("\n")) {
    if (expected !== undefined) {
      if (line.trim() === "") flush();
      else expected.push(line);
    } else if (line.startsWith("#")) prose.push(line);
    else if (line === "----") expected = [];
    else if (line.trim() !== "") commands.push(line);
  }
  flush();
  return blocks;
}

export function formatScenario(blocks: readonly Block[], outputs: readonly string[][]): string {
  return blocks
    .map((block, i) => [...block.prose, ...block.commands, "----", ...(outputs[i]!.length > 0 ? outputs[i]! : ["(nothing)"])].join("\n"))
    .join("\n\n")
    .concat("\n");
}

/** Runs the blocks in order against one core; returns each block's printed outputs. */
export function runScenario(blocks: readonly Block[]): string[][] {
  const runner = new ScenarioRunner();
  return blocks.map((block) => block.commands.flatMap((command) => runner.run(command)));
}

type Payload = string;

class ScenarioRunner {
  private core: Tendermint<Payload> | undefined;
  private self = "";
  private config: ConstructorParameters<typeof Tendermint<Payload>>[0] | undefined;
  /** The node's own votes of the current height: what its write-ahead state holds. */
  private ownVotes: Parameters<Tendermint<Payload>["step"]>[0][] = [];

  run(command: string): string[] {
    const [verb, ...rest] = command.trim().split(/\s+/);
    const args = new Map(rest.filter((word) => word.includes("=")).map((word) => word.split("=") as [string, string]));
    const flags = new Set(rest.filter((word) => !word.includes("=")));
    if (verb === "init") return this.init(args);
    const core = this.core;
    if (core === undefined) throw new Error("init first");
    switch (verb) {
      case "start":
        return this.feed({ kind: "startHeight", height: BigInt(args.get("height")!), hasWork: flags.has("work") });
      case "work":
        return this.feed({ kind: "work" });
      case "proposal":
        return this.feed(proposalInput(args.get("from")!, Number(args.get("round")), args.get("value")!, Number(args.get("vr") ?? -1)));
      case "valid":
        return this.feed({ kind: "valueChecked", valueId: args.get("value")!, valid: flags.has("yes") });
      case "ready":
        return this.feed({ kind: "valueReady", height: BigInt(args.get("height")!), round: Number(args.get("round")), valueId: args.get("value")! });
      case "votes": {
        const kind = [...flags][0] as "prevote" | "precommit";
        const value = args.get("value")!;
        return args.get("from")!.split(",").flatMap((validator) =>
          this.feed(voteInput(kind, Number(args.get("round")), value === "nil" ? null : value, validator)),
        );
      }
      case "timeout":
        return this.feed({ kind: "timeout", timeout: [...flags][0] as "propose", height: BigInt(args.get("height")!), round: Number(args.get("round")) });
      case "restart": {
        const state = core.roundState;
        this.core = new Tendermint<Payload>(this.config!);
        const printed = this.core.resume(state, flags.has("work")).map(describe);
        const signed = this.ownVotes.filter((input) => input.kind === "vote");
        return [...printed, ...signed.flatMap((input) => this.feed(input))];
      }
      case "state": {
        const s = core.roundState;
        const lock = s.lockedValue === null ? "none" : `${s.lockedValue}@${s.lockedRound}`;
        const valid = s.validValue === null ? "none" : `${s.validValue}@${s.validRound}`;
        return [`height=${s.height} round=${s.round} step=${["propose", "prevote", "precommit"][s.step]} locked=${lock} valid=${valid} decided=${core.isDecided}`];
      }
      default:
        throw new Error(`unknown command ${verb}`);
    }
  }

  private init(args: Map<string, string>): string[] {
    const validators = args.get("validators")!.split(",").sort();
    this.self = args.get("self")!;
    const { quorum, roundSkip } = quorumForScenario(validators.length);
    const timeouts = {
      proposeMs: Number(args.get("propose") ?? 1000),
      prevoteMs: Number(args.get("prevote") ?? 1000),
      precommitMs: Number(args.get("precommit") ?? 1000),
      deltaMs: Number(args.get("delta") ?? 500),
    };
    this.config = { self: this.self, validators, quorum, roundSkip, timeouts };
    this.core = new Tendermint<Payload>(this.config);
    return [`validators ${validators.join(",")}, quorum ${quorum}, round skip ${roundSkip}`];
  }

  /** Feeds an input, then the node's own votes and proposals back, printing every output. */
  private feed(first: Parameters<Tendermint<Payload>["step"]>[0]): string[] {
    const printed: string[] = [];
    const queue = [first];
    while (queue.length > 0) {
      for (const output of this.core!.step(queue.shift()!)) {
        printed.push(describe(output));
        if (output.kind === "vote") {
          const own = voteInput(output.voteKind, output.round, output.valueId, this.self);
          this.ownVotes.push(own);
          queue.push(own);
        }
        if (output.kind === "propose") queue.push(proposalInput(this.self, output.round, output.valueId, output.validRound));
      }
    }
    return printed;
  }
}

function proposalInput(from: string, round: number, valueId: string, validRound: number): Parameters<Tendermint<Payload>["step"]>[0] {
  return { kind: "proposal", proposal: { round, valueId, validRound, proposer: from, payload: `proposal ${from} r${round} ${valueId} vr${validRound}` } };
}

function voteInput(kind: "prevote" | "precommit", round: number, valueId: string | null, validator: string): Parameters<Tendermint<Payload>["step"]>[0] {
  return { kind: "vote", vote: { kind, round, valueId, validator, payload: `${kind} ${validator} r${round} ${valueId ?? "nil"}` } };
}

function describe(output: ConsensusOutput<Payload>): string {
  switch (output.kind) {
    case "propose":
      return `propose h=${output.height} r=${output.round} value=${output.valueId} vr=${output.validRound}`;
    case "needValue":
      return `need-value h=${output.height} r=${output.round}`;
    case "checkValue":
      return `check-value ${output.valueId}`;
    case "vote":
      return `${output.voteKind} h=${output.height} r=${output.round} value=${output.valueId ?? "nil"}`;
    case "scheduleTimeout":
      return `schedule ${output.timeout}-timeout h=${output.height} r=${output.round} after ${output.delayMs}ms`;
    case "decide":
      return `decide h=${output.height} r=${output.round} value=${output.valueId} by ${output.precommits.map((vote) => vote.validator).join(",")}`;
    case "evidence":
      return `evidence [${output.first}] vs [${output.second}]`;
  }
}
