export { FixedKeyTable } from "./fixedKeyTable";
export { GrowableRecords, GrowableUint32Array } from "./growableArrays";
