/**
 * Goal: with more than f Byzantine validators agreement may break, but never silently: whenever two
 * correct replicas commit different batches at one height in one round, the evidence the correct
 * replicas hold names at least f+1 distinct validators (reference/consensus.md §3.2, invariant 8).
 * Different batches decided in different rounds cannot be attributed from certificates (amnesia,
 * erratum 10): the run notes them.
 * Method: simulate() in fork-attack mode: b in (f, 2f] Byzantine validators show two groups of
 * correct nodes two different valid batches and vote for each with each group (ForkAttack), on a
 * network with the seed's delays, loss, duplication and partitions but no crashes; the other
 * invariants (validity, prefix per replica, certificates, no correct double-sign, no evidence
 * against a correct node) still hold.
 */
import { describeSeeds } from "./seedSuite";

describeSeeds("beyond the threshold, four validators (b = 2)", { validators: 4, forkAttack: true }, 1, 10);
describeSeeds("beyond the threshold, seven validators (b = 3 or 4)", { validators: 7, forkAttack: true }, 1, 10);
