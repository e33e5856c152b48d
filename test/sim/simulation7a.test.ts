/**
 * Goal: as simulation4.test.ts, with seven validators (f = 2: up to two Byzantine, or crashes and
 * stale restores within the same budget). Method: one test per seed; the other half of the n = 7
 * seeds is in simulation7b.test.ts.
 */
import { describeSeeds } from "./seedSuite";

describeSeeds("seven validators", { validators: 7 }, 1, 75);
