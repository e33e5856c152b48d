/** What the scenario runner uses from the sources, in one place. */
export { type ConsensusOutput, Tendermint } from "../../src/consensus";
import { quorumSize, roundSkipSize } from "../../src/federation";

export function quorumForScenario(validators: number): { quorum: number; roundSkip: number } {
  return { quorum: quorumSize(validators), roundSkip: roundSkipSize(validators) };
}
