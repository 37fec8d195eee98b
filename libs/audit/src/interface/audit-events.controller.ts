import { Readable } from 'node:stream';
import { Controller, Get, HttpCode, Inject, Param, ParseUUIDPipe, Post, Query, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsOptional, IsString } from 'class-validator';
import type { FastifyReply } from 'fastify';
import { CurrentPrincipal, type Principal, Roles } from '@cx/auth';
import { EVENT_STORE, type EventStore } from '@cx/event-store';
import { auditEventLines, parseAuditEventsQuery } from './audit-events';
import { AuditVerifications, type VerificationView } from './audit-verifications';

export class AuditEventsQueryDto {
  @ApiPropertyOptional({ description: 'Resume strictly after this global position (the last line’s "position").' })
  @IsOptional()
  @IsString()
  after?: string;

  @ApiPropertyOptional({ description: 'One stream, or a stream-name prefix ending in * (e.g. book-*).' })
  @IsOptional()
  @IsString()
  stream?: string;

  @ApiPropertyOptional({ description: 'One event type, e.g. TradeExecuted.' })
  @IsOptional()
  @IsString()
  type?: string;

  @ApiPropertyOptional({ description: 'Only events of this correlation id.' })
  @IsOptional()
  @IsString()
  correlationId?: string;

  @ApiPropertyOptional({ description: 'Recorded at or after this ISO 8601 instant.' })
  @IsOptional()
  @IsString()
  from?: string;

  @ApiPropertyOptional({ description: 'Recorded before this ISO 8601 instant.' })
  @IsOptional()
  @IsString()
  to?: string;
}

/**
 * The event history for auditors (issue 8): the NDJSON stream and server-side verification. Market-wide readers
 * only (auditor, regulator, admin); nothing here writes to the store.
 */
@ApiTags('audit')
@Controller('v1/audit')
@Roles('auditor', 'regulator', 'admin')
export class AuditEventsController {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(AuditVerifications) private readonly verifications: AuditVerifications,
  ) {}

  @Get('events')
  @ApiOperation({
    summary:
      'Every event in $all order as NDJSON (one JSON object per line: position, stream, revision, id, type, data, metadata, created), streamed; input for `cx audit verify --file` or `--url`.',
  })
  @ApiProduces('application/x-ndjson')
  events(@Query() q: AuditEventsQueryDto, @Res() reply: FastifyReply): void {
    const filter = parseAuditEventsQuery(q);
    // Readable.from pulls the next line only when the socket has drained the last ones (back-pressure), and
    // Fastify destroys it when the client goes away, which ends the store read.
    void reply
      .header('content-type', 'application/x-ndjson; charset=utf-8')
      .header('cache-control', 'no-store')
      .header('x-accel-buffering', 'no')
      .send(Readable.from(auditEventLines(this.store, filter), { objectMode: false, highWaterMark: 64 * 1024 }));
  }

  @Post('verifications')
  @Roles('auditor')
  @HttpCode(202)
  @ApiOperation({
    summary:
      'Starts verify on the server over its store (hash chains, signed checkpoints, floors, ledger, usage); poll GET /v1/audit/verifications/{id}.',
  })
  start(@CurrentPrincipal() p: Principal): VerificationView {
    return this.verifications.start(p.keyId);
  }

  @Get('verifications/:id')
  @Roles('auditor')
  @ApiOkResponse({ description: 'Progress while running; the verify report once finished.' })
  get(@Param('id', new ParseUUIDPipe()) id: string): VerificationView {
    return this.verifications.get(id);
  }
}
