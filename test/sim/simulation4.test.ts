/**
 * Goal: real replicas agree, stay valid, durable and live under mixed faults, four validators.
 * Method: the seeded whole-cluster simulator (simulate.ts), one test per seed: swarm faults
 * (delay, loss up to 30%, duplication, partitions symmetric and one-way, crashes losing unsynced
 * writes, restarts from an old copy of the disk), up to f = 1 Byzantine validator, invariants after
 * every event, then K = 3 heights after the network heals. The n = 7 seeds are in simulation7a and
 * simulation7b, so that jest can run the files side by side.
 */
import { describeSeeds } from "./seedSuite";

describeSeeds("four validators", { validators: 4 }, 1, 165);
