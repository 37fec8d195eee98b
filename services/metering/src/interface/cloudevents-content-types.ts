import { BadRequestException, Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { METERING_CONFIG, type MeteringConfig } from '../config';

// CloudEvents' HTTP binding sends a single structured event as `application/cloudevents+json` and a batch as
// `application/cloudevents-batch+json`. Fastify parses only `application/json` by itself, so metering teaches it
// both, from inside the module: a host needs no extra line. Malformed JSON fails like any malformed body (400).

export const CLOUDEVENTS_CONTENT_TYPES = ['application/cloudevents+json', 'application/cloudevents-batch+json'];

// Room for a full batch of ordinary events (a few hundred bytes each) and then some.
const BYTES_PER_EVENT = 4_096;
const MIN_BODY_BYTES = 1_048_576;

interface FastifyLike {
  hasContentTypeParser(type: string): boolean;
  addContentTypeParser(
    type: string,
    opts: { parseAs: 'string'; bodyLimit: number },
    parser: (req: unknown, body: string, done: (err: Error | null, value?: unknown) => void) => void,
  ): void;
}

@Injectable()
export class CloudEventsContentTypes implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @Inject(METERING_CONFIG) private readonly config: MeteringConfig,
  ) {}

  onModuleInit(): void {
    // An application context without HTTP (a consumer-only process) has no adapter.
    const fastify = this.adapterHost.httpAdapter?.getInstance?.() as FastifyLike | undefined;
    if (!fastify || typeof fastify.addContentTypeParser !== 'function') return;
    const bodyLimit = Math.max(MIN_BODY_BYTES, this.config.maxBatch * BYTES_PER_EVENT);
    for (const type of CLOUDEVENTS_CONTENT_TYPES) {
      if (fastify.hasContentTypeParser(type)) continue;
      fastify.addContentTypeParser(type, { parseAs: 'string', bodyLimit }, (_req, body, done) => {
        try {
          done(null, JSON.parse(body));
        } catch (e) {
          // An HttpException, so the error filter answers 400 HTTP.MALFORMED_BODY as for `application/json`.
          done(new BadRequestException('the body is not valid JSON', { cause: e }));
        }
      });
    }
  }
}
