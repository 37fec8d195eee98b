import {
  type DynamicModule,
  Inject,
  Module,
  type OnApplicationBootstrap,
  type BeforeApplicationShutdown,
} from '@nestjs/common';
import { EVENT_STORE, type EventStore } from '@cx/event-store';
import { CLOCK, type Clock } from '@cx/shared-kernel';
import { AuditCheckpointer } from '../checkpoint';
import { AUDIT_SIGNING_KEY, AuditController } from './audit.controller';
import { AuditEventsController } from './audit-events.controller';
import { AuditVerifications } from './audit-verifications';
import type { SigningKey } from '../signing-key';

/**
 * Audit in a host process: publishes the checkpoint public key, runs this process's periodic signed checkpoints
 * (stopped before the store closes), streams the history to auditors and runs server-side verifications over the
 * host's store (EVENT_STORE and CLOCK come from the host, as for every module).
 */
@Module({})
export class AuditModule implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(
    @Inject(AuditCheckpointer) private readonly checkpointer: AuditCheckpointer,
    @Inject(AuditVerifications) private readonly verifications: AuditVerifications,
  ) {}

  static forRoot(deps: { key: SigningKey; checkpointer: AuditCheckpointer }): DynamicModule {
    return {
      module: AuditModule,
      controllers: [AuditController, AuditEventsController],
      providers: [
        { provide: AUDIT_SIGNING_KEY, useValue: deps.key },
        { provide: AuditCheckpointer, useValue: deps.checkpointer },
        {
          provide: AuditVerifications,
          // The server's own key is the one its checkpoints must carry.
          useFactory: (store: EventStore, clock: Clock) =>
            new AuditVerifications(
              store,
              () => [deps.key.publicKey],
              () => clock.now(),
            ),
          inject: [EVENT_STORE, CLOCK],
        },
      ],
      exports: [AUDIT_SIGNING_KEY],
    };
  }

  onApplicationBootstrap(): void {
    this.checkpointer.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.checkpointer.stop();
    await this.verifications.idle();
  }
}
