export { CountsByKey } from "./countsByKey";
export { FixedKeyTable } from "./fixedKeyTable";
export { GrowableRecords, GrowableUint32Array } from "./growableArrays";
export { type HashSeed, keyedHash32 } from "./keyedHash";
export { RecentRecords } from "./recentRecords";
