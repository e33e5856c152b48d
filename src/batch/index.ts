export { type AssembledBatch, assembleBatch, batchIdOf, type BatchEntry, type BatchMeta, revealsDigest } from "./assembleBatch";
export { buildBatch, type BuiltBatch, fitCandidates, type RejectedEntry } from "./buildBatch";
export { bodyMatchesHeader } from "./bodyMatchesHeader";
export { type ChainHead, GENESIS_HEADER_HASH, genesisHead } from "./chainHead";
export { checkBatch, checkEntryCount } from "./checkBatch";
