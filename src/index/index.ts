export { type IndexHit, MatchIndex } from "./matchIndex";
export { PdqMultiIndex } from "./pdqMultiIndex";
export { PdqScanIndex } from "./pdqScanIndex";
