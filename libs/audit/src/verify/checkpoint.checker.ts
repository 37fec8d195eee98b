import type { KeyObject } from 'node:crypto';
import { type RecordedEvent, parsePosition, positionToString } from '@cx/event-store';
import {
  AUDIT_CHECKPOINT,
  CHECKPOINT_STREAM_PREFIX,
  type AuditCheckpointData,
  globalHashOf,
  isCheckpointData,
  signedText,
} from '../checkpoint';
import { keyIdOf, parsePublicKey, verifyText } from '../signing-key';
import type { ChainChecker } from './chain.checker';
import type { Checker, Report } from './checker';

// Checks every AuditCheckpoint: its signature, the key that made it, its sequence per node, and that the heads it
// lists and its global hash agree with the chain as it stood at the checkpoint's position.
//
// Keys: with trusted public keys given (--public-key), a checkpoint must be signed by one of them. Without,
// each node's first checkpoint introduces its key (trust on first use) and a later change of key is a violation;
// that proves nothing was changed after checkpointing, but not who signed, so the report says keys were not pinned.

export interface CheckpointCheckerOptions {
  trustedKeys?: KeyObject[];
}

export class CheckpointChecker implements Checker {
  readonly name = 'checkpoint';
  private readonly trusted: Map<string, KeyObject> | null;
  private readonly nodeKeys = new Map<string, { keyId: string; key: KeyObject }>();
  private readonly sequences = new Map<string, number>();
  checkpointsChecked = 0;
  /** Checkpoints whose signature verified with a trusted (or, without trusted keys, first-seen) key. */
  checkpointsSignedByTrustedKey = 0;
  readonly keyIdsSeen = new Set<string>();
  readonly warnings: string[] = [];

  constructor(
    private readonly chain: ChainChecker,
    opts: CheckpointCheckerOptions = {},
  ) {
    this.trusted =
      opts.trustedKeys === undefined || opts.trustedKeys.length === 0
        ? null
        : new Map(opts.trustedKeys.map((k) => [keyIdOf(k), k]));
  }

  get trustedKeyIds(): string[] {
    return this.trusted === null ? [] : [...this.trusted.keys()];
  }

  onEvent(e: RecordedEvent, report: Report): void {
    if (!e.streamId.startsWith(CHECKPOINT_STREAM_PREFIX) || e.type !== AUDIT_CHECKPOINT) return;
    this.checkpointsChecked++;
    const at = { stream: e.streamId, revision: e.revision.toString(), position: positionToString(e.position) };
    const fail = (check: string, message: string): void => report({ check, ...at, message });
    if (!isCheckpointData(e.data)) return fail('checkpoint.format', 'not an AuditCheckpoint of version 1');
    const c: AuditCheckpointData = e.data;
    this.keyIdsSeen.add(c.keyId);

    const key = this.keyFor(c, fail);
    if (key !== null) {
      if (!verifyText(key, signedText(c), c.signature)) {
        fail('checkpoint.signature', `signature does not verify with key ${c.keyId}`);
      } else {
        this.checkpointsSignedByTrustedKey++;
      }
    }

    const previous = this.sequences.get(c.node) ?? 0;
    if (c.sequence !== previous + 1) {
      fail('checkpoint.sequence', `sequence ${c.sequence} of node ${c.node} follows ${previous}`);
    }
    this.sequences.set(c.node, c.sequence);

    let position;
    try {
      position = c.position === null ? null : parsePosition(c.position);
    } catch {
      return fail('checkpoint.format', `position "${c.position}" is not a position`);
    }
    const { heads, complete } = this.chain.headsAsOf(position);
    if (!complete) {
      this.warnings.push(
        `checkpoint at ${at.position}: more events than verify keeps came between its position ${c.position} and it; heads not checked`,
      );
      return;
    }
    for (const [stream, h] of Object.entries(c.heads)) {
      const actual = heads.get(stream);
      if (actual === undefined || actual.revision.toString() !== h.revision || actual.hash !== h.hash) {
        fail(
          'checkpoint.head',
          `head of "${stream}" is recorded as revision ${h.revision} hash ${String(h.hash).slice(0, 16)}…, but the chain has ${
            actual === undefined
              ? 'no such stream'
              : `revision ${actual.revision} hash ${String(actual.hash).slice(0, 16)}…`
          } at position ${c.position}`,
        );
      }
    }
    if (heads.size !== c.streamCount || globalHashOf(heads) !== c.globalHash) {
      fail(
        'checkpoint.global-hash',
        `global hash over ${c.streamCount} stream heads does not match the chain's ${heads.size} heads at position ${c.position}`,
      );
    }
  }

  /** The key to check `c` with, or null (after reporting) when there is none. */
  private keyFor(c: AuditCheckpointData, fail: (check: string, message: string) => void): KeyObject | null {
    if (this.trusted !== null) {
      const key = this.trusted.get(c.keyId);
      if (key === undefined) fail('checkpoint.key', `signed by key ${c.keyId}, which is not a trusted key`);
      return key ?? null;
    }
    let embedded: KeyObject;
    try {
      embedded = parsePublicKey(c.publicKey);
    } catch {
      fail('checkpoint.key', 'the embedded public key cannot be read');
      return null;
    }
    if (keyIdOf(embedded) !== c.keyId) {
      fail('checkpoint.key', `the embedded public key does not have the id ${c.keyId}`);
      return null;
    }
    const first = this.nodeKeys.get(c.node);
    if (first === undefined) {
      this.nodeKeys.set(c.node, { keyId: c.keyId, key: embedded });
      return embedded;
    }
    if (first.keyId !== c.keyId) {
      fail('checkpoint.key', `node ${c.node} signed with key ${first.keyId} before and now with ${c.keyId}`);
    }
    return first.key;
  }
}
