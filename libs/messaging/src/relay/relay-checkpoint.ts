import {
  type EventStore,
  type ExpectedRevision,
  type Position,
  StreamNotFound,
  parsePosition,
  positionToString,
} from '@cx/event-store';

// The relay's durable checkpoint: the position of the last event it published, kept in the store it follows, in a
// stream of its own (`relay-checkpoint-<name>`). Every write is at the exact revision the relay last saw, so two
// relays with one name cannot both run: the second one's first checkpoint fails with WrongExpectedVersion and it
// stops, instead of two publishers racing (fencing).

export const RELAY_CHECKPOINTED = 'RelayCheckpointed';
export const checkpointStream = (relayName: string): string => `relay-checkpoint-${relayName}`;

export class RelayCheckpoint {
  private revision: ExpectedRevision = 'no_stream';

  constructor(
    private readonly store: EventStore,
    readonly stream: string,
  ) {}

  /** The last checkpointed position, or null when the relay never published anything. */
  async load(): Promise<Position | null> {
    try {
      for await (const e of this.store.readStream(this.stream, {
        direction: 'backwards',
        fromRevision: 'end',
        maxCount: 1,
      })) {
        this.revision = e.revision;
        return parsePosition((e.data as { position: string }).position);
      }
    } catch (e) {
      if (!(e instanceof StreamNotFound)) throw e;
    }
    this.revision = 'no_stream';
    return null;
  }

  async save(position: Position): Promise<void> {
    const result = await this.store.appendToStream(
      this.stream,
      [{ type: RELAY_CHECKPOINTED, data: { position: positionToString(position) } }],
      { expectedRevision: this.revision },
    );
    this.revision = result.nextExpectedRevision;
  }
}
