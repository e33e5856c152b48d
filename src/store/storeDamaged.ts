import { HashfedError } from "../errors";

/** A data folder damaged on disk, refused at start with what to do: `what` says what is wrong. */
export function storeDamaged(what: string): HashfedError {
  return new HashfedError("precondition", "STORE_DAMAGED", `the data folder is damaged: ${what}; restore the folder from a backup, or start from an empty one to fetch the log from the other members`);
}
