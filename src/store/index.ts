export type { KeyRange, KeyValueStore, WriteOperation } from "./keyValueStore";
export { LevelKeyValueStore } from "./levelKeyValueStore";
export { type BatchCommit, LogStore, type StoredEntry } from "./logStore";
export { DurableImage, MemoryKeyValueStore, type MemoryKeyValueStoreOptions } from "./memoryKeyValueStore";
export { storeDamaged } from "./storeDamaged";
export { TreeReader } from "./treeReader";
