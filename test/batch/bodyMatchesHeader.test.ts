/**
 * Goal: a batch body that is not exactly the one its header commits to is told apart from the
 * header's batch, whatever was changed (entries reordered or dropped, a reveal, a signature), and
 * without judging whether the entries are valid: a peer's changed body must not make a batch
 * count as invalid, and a body whose entries break the log's rules still matches its header.
 * Method: batches built on the genesis head and on a later head, each mutated in one place.
 */
import { assembleBatch, bodyMatchesHeader, buildBatch, checkBatch, genesisHead } from "../../src/batch";
import { LogState } from "../../src/state/logState";
import { federationFixture, StatementMaker, wireBatch } from "../support/statements";

const fixture = federationFixture({ validatorCount: 1 });
const key = fixture.validators[0]!.key;
const maker = new StatementMaker(fixture.federation, "body-matches-header");
const meta = { proposer: fixture.validators[0]!.name, proposerTimeMs: 1n };
const entries = [maker.add(key), maker.add(key, { signalType: "md5" }), maker.add(key, { signalType: "pdq" })];
const built = buildBatch(fixture.federation, new LogState(), genesisHead(), entries, meta).batch!;

test("the body of a batch matches its header on the head it was built on, and on no other", () => {
  expect(bodyMatchesHeader(genesisHead(), wireBatch(built))).toBe(true);
  const later = { height: built.header.height, headerHash: built.id, range: built.range };
  expect(bodyMatchesHeader(later, wireBatch(built))).toBe(false);
  const next = buildBatch(fixture.federation, new LogState(), later, [maker.add(key)], meta).batch!;
  expect(bodyMatchesHeader(later, wireBatch(next))).toBe(true);
});

test("entries reordered or dropped, a reveal or a signature changed: the body no longer matches", () => {
  const reordered = wireBatch(built);
  reordered.entries.reverse();
  reordered.reveals.reverse();
  expect(bodyMatchesHeader(genesisHead(), reordered)).toBe(false);

  const dropped = wireBatch(built);
  dropped.entries.pop();
  dropped.reveals.pop();
  expect(bodyMatchesHeader(genesisHead(), dropped)).toBe(false);

  const revealed = wireBatch(built);
  revealed.reveals[1] = { ...revealed.reveals[1]!, salt: Buffer.alloc(revealed.reveals[1]!.salt.length, 7) };
  expect(bodyMatchesHeader(genesisHead(), revealed)).toBe(false);

  const resigned = wireBatch(built);
  resigned.entries[0] = { ...resigned.entries[0]!, signature: Buffer.alloc(64, 1) };
  expect(bodyMatchesHeader(genesisHead(), resigned)).toBe(false);

  expect(bodyMatchesHeader(genesisHead(), { ...wireBatch(built), header: Buffer.from("not a header") })).toBe(false);
});

test("a body whose entries break the log's rules still matches the header that commits to it", () => {
  const twice = assembleBatch(fixture.federation, genesisHead(), [entries[0]!, entries[0]!], meta);
  expect(bodyMatchesHeader(genesisHead(), wireBatch(twice))).toBe(true);
  expect(() => checkBatch(fixture.federation, new LogState(), genesisHead(), wireBatch(twice), () => true)).toThrow();
});
