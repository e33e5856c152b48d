export { verifyCosignedCheckpoint, type VerifiedCheckpoint } from "./cosignedCheckpoint";
