import { randomBytes } from "node:crypto";
import type { ServiceError } from "@grpc/grpc-js";
import type { Submission } from "../../src/gen/hashfed/v1/member";
import type { Reveal } from "../../src/gen/hashfed/v1/statement";
import type { SignedStatement } from "../../src/statements";

/** Building Member.Submit requests and catching their refusals, for tests that talk to a node over gRPC. */

export const randomHex32 = (): string => randomBytes(32).toString("hex");

export const addSubmission = (signalType: string, value: string, labels = ["graphic-violence"], quality = 90): Submission => ({
  kind: { $case: "add", value: { signalType, value, labels, quality } },
});

export const signedSubmission = ({ signed, reveal }: { signed: SignedStatement; reveal: Reveal | undefined }): Submission => ({
  kind: { $case: "signed", value: { entry: { statement: signed.bytes, signature: signed.signature }, reveal } },
});

/** The gRPC error `promise` rejects with; fails the test when it succeeds. */
export async function rpcRejection(promise: Promise<unknown>): Promise<ServiceError> {
  try {
    await promise;
  } catch (error) {
    return error as ServiceError;
  }
  throw new Error("the request succeeded but should have failed");
}
