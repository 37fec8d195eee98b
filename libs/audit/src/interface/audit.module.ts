import {
  type DynamicModule,
  Inject,
  Module,
  type OnApplicationBootstrap,
  type BeforeApplicationShutdown,
} from '@nestjs/common';
import { AuditCheckpointer } from '../checkpoint';
import { AUDIT_SIGNING_KEY, AuditController } from './audit.controller';
import type { SigningKey } from '../signing-key';

/**
 * Audit in a host process: publishes the checkpoint public key and runs this process's periodic signed
 * checkpoints (stopped before the store closes).
 */
@Module({})
export class AuditModule implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(@Inject(AuditCheckpointer) private readonly checkpointer: AuditCheckpointer) {}

  static forRoot(deps: { key: SigningKey; checkpointer: AuditCheckpointer }): DynamicModule {
    return {
      module: AuditModule,
      controllers: [AuditController],
      providers: [
        { provide: AUDIT_SIGNING_KEY, useValue: deps.key },
        { provide: AuditCheckpointer, useValue: deps.checkpointer },
      ],
      exports: [AUDIT_SIGNING_KEY],
    };
  }

  onApplicationBootstrap(): void {
    this.checkpointer.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.checkpointer.stop();
  }
}
