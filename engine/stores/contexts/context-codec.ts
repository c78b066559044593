/**
 * Bodies of the context store's records (record types in format/constants.ts).
 *
 *   ContextSet (64)    head/tail body (../split-body.ts):
 *                        head  msgpack [contextId, version, insertedAt]
 *                        tail  msgpack map: the context
 *   DeltaSet (66)      the same, with the delta as tail
 *   ContextDelete (65) msgpack [contextId]: removes the context (not its deltas)
 *   DeltaDelete (67)   msgpack [contextId, rule, arg]: removes the deltas of the
 *                      context framed before it that match the rule:
 *                        rule 1  every delta (arg 0)
 *                        rule 2  insertedAt < arg       (deleteDeltasByTime)
 *                        rule 3  version < arg          (deleteDeltasExceedingThreshold,
 *                                                        resolved when called)
 *
 * Every rule judges each delta by its own fields only, never by how many others
 * exist: compaction drops dead records in any subset of segments, and a rule
 * that counted ("keep the newest n") would judge differently at a replay that
 * no longer sees them. So "keep the newest n" is turned into "version < cut"
 * when it is called, against the writer's view.
 */
import { corruption, invalidArgument } from "../../errors.js";
import { decode, encode } from "../../format/codec.js";
import { decodeHead, encodeHead, tailBytes } from "../split-body.js";

export const enum DropRule {
  All = 1,
  InsertedBefore = 2,
  VersionBelow = 3,
}

export interface RecordHead {
  contextId: string;
  version: number;
  insertedAt: number;
}

export interface DeltaDrop {
  contextId: string;
  rule: DropRule;
  arg: number;
}

export function encodeSetHead(contextId: string, version: number, insertedAt: number): Uint8Array {
  return encodeHead([contextId, version, insertedAt]);
}

/** The document's encoding; only valid until the next encode() anywhere. */
export function encodeDocument(document: Record<string, unknown>, name: string): Uint8Array {
  try {
    return encode(document);
  } catch (err) {
    throw invalidArgument(name, `cannot be encoded: ${(err as Error).message}`);
  }
}

export function decodeSetHead(body: Uint8Array): RecordHead {
  const f = decodeHead(body) as [string, number, number];
  if (!Array.isArray(f) || typeof f[0] !== "string") throw corruption("(context record)", 0, "head is not [contextId, version, insertedAt]");
  return { contextId: f[0], version: f[1], insertedAt: f[2] };
}

export function decodeDocument(body: Uint8Array): Record<string, unknown> {
  return decode(tailBytes(body)) as Record<string, unknown>;
}

/** Only valid until the next encode() anywhere: frame it right away. */
export function encodeContextDelete(contextId: string): Uint8Array {
  return encode([contextId]);
}

export function decodeContextDelete(body: Uint8Array): string {
  const f = decode(body);
  if (!Array.isArray(f) || typeof f[0] !== "string") throw corruption("(context delete)", 0, "body is not [contextId]");
  return f[0];
}

/** Only valid until the next encode() anywhere: frame it right away. */
export function encodeDeltaDrop(drop: DeltaDrop): Uint8Array {
  return encode([drop.contextId, drop.rule, drop.arg]);
}

export function decodeDeltaDrop(body: Uint8Array): DeltaDrop {
  const f = decode(body) as [string, DropRule, number];
  if (!Array.isArray(f) || typeof f[0] !== "string") throw corruption("(delta delete)", 0, "body is not [contextId, rule, arg]");
  return { contextId: f[0], rule: f[1], arg: f[2] };
}

/** Whether a delta with these fields is removed by the rule. */
export function dropMatches(rule: DropRule, arg: number, version: number, insertedAt: number): boolean {
  switch (rule) {
    case DropRule.All:
      return true;
    case DropRule.InsertedBefore:
      return insertedAt < arg;
    case DropRule.VersionBelow:
      return version < arg;
    default:
      return false;
  }
}
