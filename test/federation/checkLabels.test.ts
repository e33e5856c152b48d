import { HashfedError } from "../../src/errors";
import { checkLabels, formatFederationFile, parseFederation } from "../../src/federation";
import { pilotSpec } from "./fixtures";

/**
 * Goal: a statement's labels are checked against the federation's taxonomy with errors that say
 * which label is wrong and what would be right. Method: a federation with the default taxonomy and
 * at most three labels per statement, and one case per rule.
 */

const federation = parseFederation(formatFederationFile({ ...pilotSpec(), parameters: { labelsPerStatementMax: 3 } }));

function rejection(labels: readonly string[], version = 1): HashfedError {
  try {
    checkLabels(federation, labels, version);
  } catch (error) {
    if (error instanceof HashfedError) return error;
    throw error;
  }
  throw new Error("expected the labels to be rejected");
}

test.each([[["recruitment"]], [["graphic-violence", "glorification", "content-incident-protocol"]], [["instruction", "recruitment"]]])(
  "accepts %j (any order, up to the maximum)",
  (labels) => {
    expect(() => checkLabels(federation, labels, 1)).not.toThrow();
  },
);

const FEW = "taxonomy version 1 has imminent-credible-threat, graphic-violence, glorification, radicalisation, recruitment and 3 more";

test.each([
  ["another taxonomy version", ["recruitment"], 2, "TAXONOMY_VERSION_MISMATCH", "the labels are from taxonomy version 2, but this federation uses version 1"],
  ["version 0", ["recruitment"], 0, "TAXONOMY_VERSION_MISMATCH", "the labels are from taxonomy version 0, but this federation uses version 1"],
  ["no labels", [], 1, "LABELS_EMPTY", `a signal needs at least one label; ${FEW}`],
  ["too many", ["recruitment", "instruction", "glorification", "radicalisation"], 1, "LABELS_TOO_MANY", "a statement carries at most 3 labels, got 4"],
  ["an unknown label", ["recruitment", "gore"], 1, "LABEL_UNKNOWN", `labels[1]: unknown label "gore"; ${FEW}`],
  ["a label with the wrong spelling", ["Graphic Violence"], 1, "LABEL_UNKNOWN", `labels[0]: unknown label "Graphic Violence" (did you mean "graphic-violence"?); ${FEW}`],
  ["a British/American variant", ["radicalization"], 1, "LABEL_UNKNOWN", `labels[0]: unknown label "radicalization" (did you mean "radicalisation"?); ${FEW}`],
  ["an empty label", [""], 1, "LABEL_UNKNOWN", `labels[0]: unknown label ""; ${FEW}`],
  ["a duplicate", ["recruitment", "instruction", "recruitment"], 1, "LABEL_DUPLICATE", 'labels[2]: the label "recruitment" appears twice'],
])("rejects %s", (_description, labels, version, code, message) => {
  const error = rejection(labels, version);
  expect(error.kind).toBe("invalid");
  expect(error.code).toBe(code);
  expect(error.message).toBe(message);
});

test("a huge unknown label is quoted only in part", () => {
  expect(rejection(["x".repeat(100_000)]).message.length).toBeLessThan(400);
});

test("a small taxonomy is listed whole", () => {
  const small = parseFederation(formatFederationFile({ ...pilotSpec(), taxonomy: { version: 7, labels: ["a", "b"] } }));
  expect(() => checkLabels(small, ["c"], 7)).toThrow('labels[0]: unknown label "c"; taxonomy version 7 has a, b');
});
