/** The auditor: a light client of the Log service that verifies a federation's log without trusting any node. */
export { verifyCosignedCheckpoint, type VerifiedCheckpoint } from "./cosignedCheckpoint";
export { type AuditEnvironment, Auditor, type AuditorOptions } from "./auditor";
export { auditReportJson, type AuditReport, formatAuditReport, VERDICT_EXIT_CODES, type Verdict, verdictOf } from "./auditReport";
export { type AuditState, formatAuditState, parseAuditState } from "./auditState";
export { checkEntryInclusion } from "./entryInclusion";
export { chooseSamples } from "./entrySamples";
export { RETRACT_REASON_NAMES } from "./entryTallies";
export { checkForkEvidenceFile, describeFork, type ForkEvidence, forkEvidence, formatForkEvidence, type ProvenFork, verifyForkEvidence } from "./forkEvidence";
export { type ReplayProgress } from "./fullReplay";
export { LogNode } from "./logNode";
export { LogReplay, replayRuns } from "./logReplay";
export { type ObservedCheckpoint } from "./observedCheckpoint";
export { type BundleEntry, formatProofBundle, parseProofBundle, type ProofBundle, type VerifiedBundle, verifyProofBundle } from "./proofBundle";
export { SignatureWorkers } from "./signatureWorkers";
export { StateFolder, STATE_FILE } from "./stateFolder";
