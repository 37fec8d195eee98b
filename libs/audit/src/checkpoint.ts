import { createHash } from 'node:crypto';
import {
  type EventStore,
  type Position,
  StreamNotFound,
  comparePositions,
  parsePosition,
  positionToString,
} from '@cx/event-store';
import { HASH, canonicalJson } from './hash-chain';
import { type SigningKey, publicKeyBase64, signText } from './signing-key';

// Signed audit checkpoints (issue 8). Each process periodically appends, to the store it writes, an
// `AuditCheckpoint` event on `audit-checkpoint-<node>`:
//
//   { version: 1, node, sequence,            // 1, 2, 3… per node
//     position,                              // "commit/prepare": the last $all position the heads include
//     streamCount, globalHash,               // over ALL stream heads as of `position` (below)
//     heads: { <stream>: { revision, hash } } // only the heads that changed since this node's previous checkpoint
//                                            // (all of them in the first); revisions are decimal strings
//     keyId, publicKey,                      // Ed25519 key id and SPKI DER base64 of the signer
//     signature }                            // Ed25519 over the RFC 8785 JSON of everything above
//
// globalHash = sha256 over one line per stream, sorted by stream name (UTF-16 code units):
// JSON.stringify([stream, revision, hash]) + "\n". Storing every head in every checkpoint would grow with the
// number of streams; the digest pins all of them and the changed heads make each checkpoint checkable on its own
// against the chain. The checkpoint event is itself chained like any other event, so its signature and its place
// are both covered.

export const CHECKPOINT_STREAM_PREFIX = 'audit-checkpoint-';
export const AUDIT_CHECKPOINT = 'AuditCheckpoint';
export const checkpointStream = (node: string): string => `${CHECKPOINT_STREAM_PREFIX}${node}`;

export interface StreamHead {
  revision: bigint;
  hash: string | null;
}

export interface CheckpointHead {
  revision: string;
  hash: string | null;
}

export interface AuditCheckpointData {
  version: 1;
  node: string;
  sequence: number;
  position: string | null;
  streamCount: number;
  globalHash: string;
  heads: Record<string, CheckpointHead>;
  keyId: string;
  publicKey: string;
  signature: string;
}

/** What the signature covers: the checkpoint without its signature, as canonical JSON. */
export const signedText = (data: Omit<AuditCheckpointData, 'signature'> & { signature?: string }): string =>
  canonicalJson({ ...data, signature: undefined });

export const globalHashOf = (heads: ReadonlyMap<string, StreamHead>): string => {
  const h = createHash('sha256');
  for (const stream of [...heads.keys()].sort()) {
    const head = heads.get(stream) as StreamHead;
    h.update(`${JSON.stringify([stream, head.revision.toString(), head.hash])}\n`, 'utf8');
  }
  return h.digest('hex');
};

export const isCheckpointData = (d: unknown): d is AuditCheckpointData => {
  if (typeof d !== 'object' || d === null) return false;
  const c = d as Record<string, unknown>;
  return (
    c.version === 1 &&
    typeof c.node === 'string' &&
    typeof c.sequence === 'number' &&
    (c.position === null || typeof c.position === 'string') &&
    typeof c.streamCount === 'number' &&
    typeof c.globalHash === 'string' &&
    typeof c.heads === 'object' &&
    c.heads !== null &&
    typeof c.keyId === 'string' &&
    typeof c.publicKey === 'string' &&
    typeof c.signature === 'string'
  );
};

export interface AuditCheckpointerOptions {
  /** The store this process writes, decorated with ChainedEventStore. */
  store: EventStore;
  /** This process's name in the checkpoint stream (`audit-checkpoint-<node>`). */
  node: string;
  key: SigningKey;
  /** How often to checkpoint; 0 turns the timer off (checkpoint() still works). */
  intervalMs: number;
  /** Where a failed periodic checkpoint is reported (the next tick tries again). */
  onError?: (e: unknown) => void;
}

/**
 * Follows $all, keeps every stream's head (O(streams) memory) and appends signed checkpoints. On start it folds
 * its own earlier checkpoints (changed heads accumulate to all heads) and reads $all only after the last one.
 */
export class AuditCheckpointer {
  private readonly heads = new Map<string, StreamHead>();
  private readonly changed = new Set<string>();
  private cursor: Position | null = null;
  private sequence = 0;
  private loaded = false;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<AuditCheckpointData | null> | null = null;
  readonly stream: string;

  constructor(private readonly opts: AuditCheckpointerOptions) {
    if (!/^[A-Za-z0-9_.:-]+$/.test(opts.node)) throw new TypeError(`node name "${opts.node}" must be [A-Za-z0-9_.:-]+`);
    if (!(Number.isInteger(opts.intervalMs) && opts.intervalMs >= 0)) throw new TypeError('intervalMs must be >= 0');
    this.stream = checkpointStream(opts.node);
  }

  start(): void {
    if (this.opts.intervalMs === 0 || this.timer !== null) return;
    this.timer = setInterval(() => {
      this.checkpoint().catch((e: unknown) => this.opts.onError?.(e));
    }, this.opts.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    await this.running?.catch(() => undefined);
  }

  /** Appends a checkpoint now, unless nothing but earlier checkpoints changed. One at a time. */
  checkpoint(): Promise<AuditCheckpointData | null> {
    if (this.running === null) {
      this.running = this.run().finally(() => (this.running = null));
    }
    return this.running;
  }

  private async run(): Promise<AuditCheckpointData | null> {
    if (!this.loaded) await this.load();
    await this.catchUp();
    const onlyOwn = [...this.changed].every((s) => s === this.stream);
    if (this.sequence > 0 && onlyOwn) return null;
    const heads: Record<string, CheckpointHead> = {};
    for (const stream of [...this.changed].sort()) {
      const h = this.heads.get(stream) as StreamHead;
      heads[stream] = { revision: h.revision.toString(), hash: h.hash };
    }
    const body = {
      version: 1 as const,
      node: this.opts.node,
      sequence: this.sequence + 1,
      position: this.cursor === null ? null : positionToString(this.cursor),
      streamCount: this.heads.size,
      globalHash: globalHashOf(this.heads),
      heads,
      keyId: this.opts.key.keyId,
      publicKey: publicKeyBase64(this.opts.key.publicKey),
    };
    const data: AuditCheckpointData = { ...body, signature: signText(this.opts.key, signedText(body)) };
    await this.opts.store.appendToStream(
      this.stream,
      { type: AUDIT_CHECKPOINT, data, metadata: { actor: { service: 'audit' } } },
      { expectedRevision: 'any' },
    );
    this.sequence = data.sequence;
    this.changed.clear();
    return data;
  }

  private async load(): Promise<void> {
    try {
      for await (const e of this.opts.store.readStream(this.stream)) {
        if (e.type !== AUDIT_CHECKPOINT || !isCheckpointData(e.data)) continue;
        for (const [stream, h] of Object.entries(e.data.heads)) {
          this.heads.set(stream, { revision: BigInt(h.revision), hash: h.hash });
        }
        this.sequence = e.data.sequence;
        this.cursor = e.data.position === null ? null : parsePosition(e.data.position);
      }
    } catch (e) {
      if (!(e instanceof StreamNotFound)) throw e;
    }
    this.loaded = true;
  }

  private async catchUp(): Promise<void> {
    const from = this.cursor;
    for await (const e of this.opts.store.readAll({ fromPosition: from ?? 'start' })) {
      // readAll is inclusive; the cursor's own event is already folded.
      if (from !== null && comparePositions(e.position, from) <= 0) continue;
      const hash = e.metadata[HASH];
      this.heads.set(e.streamId, { revision: e.revision, hash: typeof hash === 'string' ? hash : null });
      this.changed.add(e.streamId);
      this.cursor = e.position;
    }
  }
}
