import { type ExpectedRevision, StreamNotFound, WrongExpectedVersion } from '@cx/event-store';
import { type GuidanceHeartbeatRecorded, HEARTBEAT_STREAM } from '../domain/heartbeat/guidance-heartbeat.events';
import type { GuidanceReadModel } from './guidance.read-model';
import type { GuidanceDeps } from './ports';

/** Records heartbeats at the revision it last wrote (one writer); learns the revision again after a conflict. */
export class HeartbeatRecorder {
  private revision: ExpectedRevision | null = null;

  constructor(
    private readonly deps: GuidanceDeps,
    private readonly model: GuidanceReadModel,
  ) {}

  async record(): Promise<GuidanceHeartbeatRecorded['data']> {
    const data: GuidanceHeartbeatRecorded['data'] = {
      completeUpTo: this.deps.clock.now().toISOString(),
      classes: this.model.resourceClasses().map((c) => ({
        resourceClass: c.resourceClassId,
        latestVersionId: this.model.latestVersionOf(c.resourceClassId),
      })),
    };
    const event = { type: 'GuidanceHeartbeatRecorded', data, metadata: { actor: { service: 'pricing-guidance' } } };
    for (let attempt = 1; ; attempt++) {
      this.revision ??= await this.currentRevision();
      try {
        const r = await this.deps.store.appendToStream(HEARTBEAT_STREAM, [event], { expectedRevision: this.revision });
        this.revision = r.nextExpectedRevision;
        return data;
      } catch (e) {
        if (!(e instanceof WrongExpectedVersion) || attempt >= 3) throw e;
        this.revision = null;
      }
    }
  }

  private async currentRevision(): Promise<ExpectedRevision> {
    try {
      const r = await this.deps.store.streamRevision(HEARTBEAT_STREAM);
      return r;
    } catch (e) {
      if (e instanceof StreamNotFound) return 'no_stream';
      throw e;
    }
  }
}
