export { type IndexHit, MatchIndex } from "./matchIndex";
