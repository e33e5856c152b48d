/**
 * Goal: members that do not vote (observers) stay correct under the same faults as the validators:
 * what they submit is committed and stays, their logs are prefixes of the canonical one, and they
 * reach the validators' head once the network heals.
 * Method: the seed suites' simulator with two observers beside 4 or 7 validators (drawn per seed).
 * Observers submit like the validators' members, crash and restart (from an old copy of the disk
 * too), and are held to every invariant the correct validators are; the fault budget of f stays
 * the validators'.
 */
import { describeSeeds } from "./seedSuite";

describeSeeds("validators with two observers", { observers: 2 }, 1, 60);
