import { HashfedError, invalid } from "../errors";
import { verifyInDomain } from "../crypto/signingDomain";
import { checkLabels, type Federation, type Member, memberByName } from "../federation";
import type { Reveal } from "../gen/hashfed/v1/statement";
import { checkPdqHash, checkPdqQuality, checkReveal, signalType } from "../signals";
import type { SignedStatement } from "./signedStatement";

/**
 * The federation's rules for one statement on its own, without its signature: it is bound to this
 * federation, comes from a member, and an AddSignal uses a known signal type, the taxonomy's labels
 * and, for PDQ, at least the federation's minimum quality. Rules that depend on the log (a
 * retraction's target) are the log state's.
 */
export function checkStatementRules(federation: Federation, signed: SignedStatement): Member {
  const { statement } = signed;
  if (!statement.federationId.equals(federation.id)) {
    throw invalid(
      "FEDERATION_MISMATCH",
      `the statement is for federation ${statement.federationId.toString("hex").slice(0, 16)}…, this node runs ${federation.id.toString("hex").slice(0, 16)}…`,
    );
  }
  const member = memberByName(federation, statement.submitter);
  if (member === undefined) {
    throw new HashfedError("forbidden", "NOT_A_MEMBER", `${JSON.stringify(statement.submitter)} is not a member of this federation`);
  }
  const body = statement.body!;
  if (body.$case === "addSignal") {
    const type = signalType(body.value.signalType);
    checkLabels(federation, body.value.labels, body.value.taxonomyVersion);
    if (type.name === "pdq") checkPdqQuality(body.value.quality, federation.parameters.pdqQualityMin);
    // One meaning, one byte string: quality means nothing for a cryptographic hash.
    else if (body.value.quality !== 0) throw invalid("QUALITY_UNEXPECTED", `a ${type.name} signal has no quality; it must be 0, got ${body.value.quality}`);
  }
  return member;
}

/** The signature must verify under the submitter's key in the statement signing domain. */
export function verifyStatementSignature(member: Member, signed: SignedStatement): void {
  if (!verifyInDomain(member.key, "statement", signed.bytes, signed.signature)) throw signatureInvalid(member);
}

/** The error for a statement signature that does not verify, wherever it was checked. */
export function signatureInvalid(member: Member): HashfedError {
  return new HashfedError(
    "unauthenticated",
    "SIGNATURE_INVALID",
    `the statement's signature does not verify under ${member.name}'s key ${member.key.keyId.toString("hex")}`,
  );
}

/** An AddSignal needs a reveal that opens its commitment; a retraction has none. */
export function checkStatementReveal(signed: SignedStatement, reveal: Reveal | undefined): void {
  const body = signed.statement.body!;
  if (body.$case === "retract") {
    if (reveal !== undefined && (reveal.salt.length > 0 || reveal.value.length > 0)) {
      throw invalid("REVEAL_UNEXPECTED", "a retraction has no reveal");
    }
    return;
  }
  if (reveal === undefined) throw invalid("REVEAL_MISSING", "an add_signal statement needs its reveal (salt and value)");
  const type = signalType(body.value.signalType);
  type.checkValue(reveal.value);
  if (type.name === "pdq") checkPdqHash(reveal.value);
  checkReveal(type.name, body.value.commitment, reveal.salt, reveal.value);
}
