import { invalid } from "../errors";
import type { Federation } from "./federation";
import { describe, didYouMean, expectArray, expectInteger, expectString, fieldError, indexPath, objectFields } from "./fields";

/**
 * The label taxonomy. Labels are versioned because the criteria change (GIFCT's did in 2017, 2019
 * and 2021) and an entry must record which version it was judged against.
 */
export interface Taxonomy {
  readonly version: number;
  readonly labels: readonly string[];
}

/** Lower-case words joined by '-', at most 64 characters: safe in URLs, logs and metric labels. */
export const LABEL_PATTERN = /^[a-z0-9][a-z0-9-]{0,63}$/;
/** Bounds the taxonomy's size; a taxonomy people apply by hand has tens of labels, not thousands. */
export const TAXONOMY_LABELS_MAX = 1024;
/** The version is a uint32 in statements. */
const TAXONOMY_VERSION_MAX = 0xffff_ffff;
/** How many valid labels an "unknown label" error lists. */
const LABELS_LISTED_MAX = 5;

/** The behavioural labels of the GIFCT hash-sharing database, as a starting taxonomy. */
export const DEFAULT_TAXONOMY: Taxonomy = Object.freeze({
  version: 1,
  labels: Object.freeze([
    "imminent-credible-threat",
    "graphic-violence",
    "glorification",
    "radicalisation",
    "recruitment",
    "instruction",
    "attacker-manifesto",
    "content-incident-protocol",
  ]),
});

export function parseTaxonomy(value: unknown, path: string): Taxonomy {
  const fields = objectFields(value, path, ["version", "labels"]);
  const version = expectInteger(fields.version, `${path}.version`, 1, TAXONOMY_VERSION_MAX);
  const labelsPath = `${path}.labels`;
  const list = expectArray(fields.labels, labelsPath);
  if (list.length === 0) throw fieldError(labelsPath, "must list at least one label");
  if (list.length > TAXONOMY_LABELS_MAX) throw fieldError(labelsPath, `must list at most ${TAXONOMY_LABELS_MAX} labels, got ${list.length}`);
  const firstIndex = new Map<string, number>();
  list.forEach((item, index) => {
    const label = expectString(item, indexPath(labelsPath, index));
    if (!LABEL_PATTERN.test(label)) {
      throw fieldError(indexPath(labelsPath, index), `a label is 1 to 64 characters of a-z, 0-9 and '-', starting with a letter or digit, got ${describe(label)}`);
    }
    const first = firstIndex.get(label);
    if (first !== undefined) throw fieldError(indexPath(labelsPath, index), `duplicate label ${JSON.stringify(label)} (also ${indexPath(labelsPath, first)})`);
    firstIndex.set(label, index);
  });
  return Object.freeze({ version, labels: Object.freeze([...firstIndex.keys()]) });
}

// Label sets built once per taxonomy: checkLabels runs for every statement.
const labelSets = new WeakMap<Taxonomy, ReadonlySet<string>>();

function labelSet(taxonomy: Taxonomy): ReadonlySet<string> {
  let set = labelSets.get(taxonomy);
  if (set === undefined) {
    set = new Set(taxonomy.labels);
    labelSets.set(taxonomy, set);
  }
  return set;
}

/**
 * Checks the labels of a new statement against the federation's taxonomy: the statement's taxonomy
 * version is the current one, there is at least one label and at most labelsPerStatementMax, each
 * is in the taxonomy, and none repeats. The order of labels is not checked here.
 */
export function checkLabels(fed: Federation, labels: readonly string[], taxonomyVersion: number): void {
  const { taxonomy } = fed;
  if (taxonomyVersion !== taxonomy.version) {
    throw invalid("TAXONOMY_VERSION_MISMATCH", `the labels are from taxonomy version ${taxonomyVersion}, but this federation uses version ${taxonomy.version}`);
  }
  if (labels.length === 0) {
    throw invalid("LABELS_EMPTY", `a signal needs at least one label; ${someLabels(taxonomy)}`);
  }
  const labelsMax = fed.parameters.labelsPerStatementMax;
  if (labels.length > labelsMax) {
    throw invalid("LABELS_TOO_MANY", `a statement carries at most ${labelsMax} labels, got ${labels.length}`);
  }
  const known = labelSet(taxonomy);
  const seen = new Set<string>();
  labels.forEach((label, index) => {
    if (!known.has(label)) {
      const hint = didYouMean(label.replace(/[\s_]+/g, "-"), taxonomy.labels);
      throw invalid("LABEL_UNKNOWN", `labels[${index}]: unknown label ${describe(label)}${hint}; ${someLabels(taxonomy)}`);
    }
    if (seen.has(label)) throw invalid("LABEL_DUPLICATE", `labels[${index}]: the label ${JSON.stringify(label)} appears twice`);
    seen.add(label);
  });
}

function someLabels(taxonomy: Taxonomy): string {
  const listed = taxonomy.labels.slice(0, LABELS_LISTED_MAX).join(", ");
  const more = taxonomy.labels.length - LABELS_LISTED_MAX;
  const rest = more > 0 ? ` and ${more} more` : "";
  return `taxonomy version ${taxonomy.version} has ${listed}${rest}`;
}
