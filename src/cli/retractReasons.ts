import { RetractReason } from "../gen/hashfed/v1/statement";

/** The reasons for a retraction as the commands name them (`retract --reason`, and in output). */
export const RETRACT_REASON_BY_NAME: Readonly<Record<string, RetractReason>> = {
  "false-positive": RetractReason.RETRACT_REASON_FALSE_POSITIVE,
  "out-of-taxonomy": RetractReason.RETRACT_REASON_OUT_OF_TAXONOMY,
  "appeal-upheld": RetractReason.RETRACT_REASON_APPEAL_UPHELD,
  duplicate: RetractReason.RETRACT_REASON_DUPLICATE,
  other: RetractReason.RETRACT_REASON_OTHER,
};

/** A reason's command name; a number no command knows (a newer federation's) as itself. */
export function retractReasonName(reason: RetractReason): string {
  return Object.keys(RETRACT_REASON_BY_NAME).find((name) => RETRACT_REASON_BY_NAME[name] === reason) ?? String(reason);
}
