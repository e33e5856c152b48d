export {
  FEDERATION_FILE_CHARS_MAX,
  ORIGIN_CHARS_MAX,
  formatFederationFile,
  isValidator,
  memberByName,
  parseFederation,
  type Federation,
  type FederationSpec,
  type Member,
  type MemberRole,
  type MemberSpec,
} from "./federation";
export { FEDERATION_ID_BYTES, canonicalJson, federationId } from "./federationId";
export { FEDERATION_INVALID } from "./fields";
export { MEMBERS_MAX, MEMBER_NAME_PATTERN } from "./members";
export { DEFAULT_PARAMETERS, PARAMETER_NAMES, PARAMETER_RULES, largestBatchBytes, type FederationParameters, type ParameterName } from "./parameters";
export { faultTolerance, quorumSize, roundSkipSize } from "./quorum";
export { DEFAULT_TAXONOMY, LABEL_PATTERN, TAXONOMY_LABELS_MAX, checkLabels, type Taxonomy } from "./taxonomy";
