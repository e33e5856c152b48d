export { SIGNAL_TYPE_NAMES, isSignalTypeName, signalType, type SignalType, type SignalTypeName } from "./signalType";
export {
  PDQ_HASH_BITS,
  PDQ_HASH_BYTES,
  PDQ_QUALITY_MAX,
  checkPdqHash,
  checkPdqQuality,
  pdqBit,
  pdqDistance,
  popcount32,
} from "./pdq";
export { COMMITMENT_BYTES, SALT_BYTES, checkReveal, commitment } from "./commitment";
export { PDQ_DIHEDRAL_VARIANTS, type PdqDihedralVariant, pdqDihedralVariant } from "./pdqDihedral";
