import { readdirSync, statSync } from "node:fs";
import { mkdir, open, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type AuditState, formatAuditState, parseAuditState, STATE_FILE, StateFolder, verifyCosignedCheckpoint } from "../../src/audit";
import { federationFixture } from "../support/statements";
import { cosign } from "../support/fakeLogNode";
import { thrown } from "../log/thrown";
import { alpha, bravo, charlie, fixture, stateFolder } from "./auditRounds";

/**
 * Goal: the auditor's memory survives as written, cannot be made to trust a checkpoint no quorum
 * signed, is never mixed up between federations, is written atomically with owner-only modes, and
 * is not shared by two audits at once.
 * Method: states formatted and parsed back, files edited by hand, and the state folder opened twice.
 */

const note = cosign(fixture, 3, Buffer.alloc(32, 9), [alpha, bravo, charlie]);
const state: AuditState = {
  federationId: fixture.federation.id,
  accepted: { verified: verifyCosignedCheckpoint(fixture.federation, note), source: "127.0.0.1:7401", observedAt: "2026-01-01T00:00:00.000Z" },
};

test("a state is read back as written, its checkpoint verified again", () => {
  expect(parseAuditState(formatAuditState(state), fixture.federation, "state.json")).toEqual(state);
  expect(parseAuditState(formatAuditState({ federationId: fixture.federation.id }), fixture.federation, "state.json")).toEqual({ federationId: fixture.federation.id });
});

test("a state kept for another federation, or one whose checkpoint was edited, is refused with a message that says so", () => {
  const other = federationFixture({ validatorCount: 4, label: "other" }).federation;
  expect(thrown(() => parseAuditState(formatAuditState(state), other, "s.json"))).toMatchObject({
    code: "AUDIT_STATE_MALFORMED",
    message: expect.stringMatching(/^the audit state s.json, federationId: is [0-9a-f]{64}, but the federation file's id is [0-9a-f]{64}: this state belongs to another federation/),
  });
  const edited = formatAuditState(state).replace("\\n3\\n", "\\n4\\n");
  expect(edited).not.toEqual(formatAuditState(state));
  expect(thrown(() => parseAuditState(edited, fixture.federation, "s.json"))).toMatchObject({
    code: "NOTE_SIGNATURE_INVALID",
    message: expect.stringMatching(/^the audit state s.json, accepted.checkpoint: the signature by alpha.example .* does not verify/),
  });
  expect(thrown(() => parseAuditState("[]", fixture.federation, "s.json"))).toMatchObject({ code: "AUDIT_STATE_MALFORMED", message: "the audit state s.json: must be a JSON object" });
});

test("the state folder is owner-only, its file written atomically, and two audits cannot share it; a lock left by a dead process is taken over", async () => {
  const parent = await stateFolder();
  const path = join(parent, "state");
  try {
    const folder = await StateFolder.open(path, fixture.federation);
    expect(statSync(path).mode & 0o777).toBe(0o700);
    expect(await folder.read()).toEqual({ federationId: fixture.federation.id });
    await folder.write(state);
    expect(statSync(join(path, STATE_FILE)).mode & 0o777).toBe(0o600);
    expect(await folder.read()).toEqual(state);
    // Replaced whole, not rewritten in place: a reader of the old file still reads all of it.
    const reader = await open(join(path, STATE_FILE), "r");
    await folder.write({ federationId: fixture.federation.id });
    expect((await reader.readFile()).toString()).toBe(formatAuditState(state));
    await reader.close();
    expect(await folder.read()).toEqual({ federationId: fixture.federation.id });
    await expect(StateFolder.open(path, fixture.federation)).rejects.toMatchObject({ code: "STATE_IN_USE", message: expect.stringContaining(`process ${process.pid}`) });
    await folder.close();
    // A pid above the kernel's limit (2^22) belongs to no process.
    await writeFile(join(path, "audit.lock"), "4194400\n");
    const again = await StateFolder.open(path, fixture.federation);
    expect((await readFile(join(path, "audit.lock"), "utf8")).trim()).toBe(String(process.pid));
    await again.close();
  } finally {
    await rm(parent, { recursive: true, force: true });
  }
});

test("a lock without a process id is held, not taken over (another audit may be writing it); an audit that closes leaves a lock not its own", async () => {
  const parent = await stateFolder();
  const path = join(parent, "state");
  const lock = join(path, "audit.lock");
  try {
    await mkdir(path, { recursive: true });
    await writeFile(lock, "");
    await expect(StateFolder.open(path, fixture.federation)).rejects.toMatchObject({ code: "STATE_IN_USE", message: expect.stringContaining("holds no process id") });
    await rm(lock);
    const folder = await StateFolder.open(path, fixture.federation);
    expect(readdirSync(path)).toEqual(["audit.lock"]);
    // Taken over meanwhile (this process was thought gone): closing leaves the other audit's lock.
    await writeFile(lock, "4194400\n");
    await folder.close();
    expect(await readFile(lock, "utf8")).toBe("4194400\n");
  } finally {
    await rm(parent, { recursive: true, force: true });
  }
});
