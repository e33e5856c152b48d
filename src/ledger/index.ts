export { type CommitListener, Ledger, type ReplayProgress } from "./ledger";
