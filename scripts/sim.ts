/**
 * Runs the whole-cluster simulator over many seeds:
 *
 *   npm run sim -- --seeds N [--from S] [--validators 4|7] [--byzantine B] [--observers O] [--fork-attack] [--no-power-loss]
 *                  [--calm | --chaos] [--heights K] [--chaos-ms MS] [--verbose] [--trace-lines L]
 *
 * Seeds S, S+1, ..., S+N-1 (default 100 seeds from 1). Without --validators each seed draws n = 4 or 7.
 * A progress line every 100 seeds, every failing seed's full report (its seed, swarm faults,
 * violations, replicas' states and trace tail: everything reproducible from the seed and these
 * options), and a summary at the end. Exit code 1 if any seed failed.
 *
 * It runs from the build: `npm run build` compiles scripts/ and test/ into dist/.
 */
import { performance } from "node:perf_hooks";
import { formatReport, type SimulateOptions, simulate } from "../test/sim/simulate";

interface Arguments {
  readonly seeds: number;
  readonly from: number;
  readonly options: SimulateOptions;
}

const USAGE =
  "usage: npm run sim -- --seeds N [--from S] [--validators 4|7] [--byzantine B] [--observers O] [--fork-attack] [--no-power-loss] [--calm | --chaos] [--heights K] [--chaos-ms MS] [--verbose] [--trace-lines L]";

function parseArguments(argv: readonly string[]): Arguments {
  let seeds = 100;
  let from = 1;
  const options: { -readonly [K in keyof SimulateOptions]: SimulateOptions[K] } = {};
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i]!;
    const value = (): number => {
      const text = argv[++i];
      const number = Number(text);
      if (text === undefined || !Number.isSafeInteger(number) || number < 0) throw new Error(`${name} needs a whole number, got ${JSON.stringify(text)}\n${USAGE}`);
      return number;
    };
    switch (name) {
      case "--seeds":
        seeds = value();
        break;
      case "--from":
        from = value();
        break;
      case "--validators": {
        const n = value();
        if (n !== 4 && n !== 7) throw new Error(`--validators is 4 or 7, got ${n}`);
        options.validators = n;
        break;
      }
      case "--byzantine":
        options.byzantine = value();
        break;
      case "--observers":
        options.observers = value();
        break;
      case "--fork-attack":
        options.forkAttack = true;
        break;
      case "--no-power-loss":
        options.powerLoss = false;
        break;
      case "--calm":
        options.calm = true;
        break;
      case "--chaos":
        options.calm = false;
        break;
      case "--heights":
        options.heightsAfterHeal = value();
        break;
      case "--chaos-ms":
        options.chaosMs = value();
        break;
      case "--trace-lines":
        options.traceLines = value();
        break;
      case "--verbose":
        options.verbose = true;
        break;
      default:
        throw new Error(`unknown argument ${JSON.stringify(name)}\n${USAGE}`);
    }
  }
  if (from + seeds - 1 > 0xffff_ffff) throw new Error("seeds are 32-bit: --from + --seeds - 1 must stay below 2^32");
  return { seeds, from, options };
}

async function main(): Promise<number> {
  const { seeds, from, options } = parseArguments(process.argv.slice(2));
  const started = performance.now();
  const failed: number[] = [];
  let virtualMs = 0;
  for (let index = 0; index < seeds; index++) {
    const seed = from + index;
    const result = await simulate(seed, options);
    virtualMs += result.stats.virtualMs;
    if (!result.ok) {
      failed.push(seed);
      process.stdout.write(`${formatReport(result)}\n\n`);
    } else if (options.verbose === true) {
      process.stdout.write(`${result.summary}\n\n`);
    }
    if ((index + 1) % 100 === 0 && index + 1 < seeds) {
      const seconds = (performance.now() - started) / 1000;
      process.stdout.write(`${index + 1}/${seeds} seeds, ${failed.length} failed, ${((index + 1) / seconds).toFixed(2)} seeds/s, ${seconds.toFixed(0)}s\n`);
    }
  }
  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(
    `${seeds} seeds from ${from}: ${failed.length} with violations${failed.length > 0 ? ` (${failed.join(", ")})` : ""}; ` +
      `${(seeds / seconds).toFixed(2)} seeds/s, ${(virtualMs / 1000 / seconds).toFixed(1)} virtual s per wall s, wall ${seconds.toFixed(1)}s\n`,
  );
  return failed.length === 0 ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exitCode = 2;
  },
);
