import { RETRACT_REASON_NAMES } from "../audit";
import type { RetractReason } from "../gen/hashfed/v1/statement";

/** The reasons for a retraction by the names the commands take (`retract --reason`) and print. */
export const RETRACT_REASON_BY_NAME: Readonly<Record<string, RetractReason>> = Object.fromEntries([...RETRACT_REASON_NAMES].map(([reason, name]) => [name, reason]));

/** A reason's name; "unknown" for a number no command knows (a newer federation's), as the audit says. */
export function retractReasonName(reason: RetractReason): string {
  return RETRACT_REASON_NAMES.get(reason) ?? "unknown";
}
