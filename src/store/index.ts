export { type BatchCommit, LogStore, type StoredEntry } from "./logStore";
export { TreeReader } from "./treeReader";
