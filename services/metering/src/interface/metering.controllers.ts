import {
  Body,
  Controller,
  Get,
  Headers,
  HttpCode,
  Param,
  Post,
  Query,
  Res,
  UnsupportedMediaTypeException,
} from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiBody,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnauthorizedResponse,
  ApiUnprocessableEntityResponse,
  ApiUnsupportedMediaTypeResponse,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { CurrentPrincipal, type Principal, Roles } from '@cx/auth';
import { DomainError, type ErrorKind } from '@cx/shared-kernel';
import type { CommandMetadata } from '../application/ports';
import type { UsageResult } from '../application/usage.handlers';
import { CommandMeta } from '@cx/auth';
import {
  AggregateQueryDto,
  AggregateView,
  AmendUsageDto,
  CorrectionView,
  DefineMeterDto,
  MeterPage,
  MeterView,
  UsageBatchView,
  UsageResultView,
  VoidUsageDto,
} from './metering.dto';
import { PageQueryDto } from '@cx/platform';
import { MeteringService } from './metering.service';

const UNAUTHENTICATED = 'AUTH.UNAUTHENTICATED, AUTH.KEY_EXPIRED or AUTH.KEY_REVOKED';

@ApiTags('metering')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ description: UNAUTHENTICATED })
@Controller('v1/meters')
export class MetersController {
  constructor(private readonly metering: MeteringService) {}

  @Get()
  @ApiOperation({
    summary:
      'The meters, by key: every authenticated role (integrators publish usage and providers price offers by them).',
  })
  @ApiOkResponse({ type: MeterPage })
  list(@Query() query: PageQueryDto): MeterPage {
    return this.metering.listMeters(query);
  }

  @Post()
  @Roles('admin')
  @ApiOperation({ summary: 'Define a meter (admin). A meter is never changed once defined.' })
  @ApiCreatedResponse({ type: MeterView })
  @ApiBadRequestResponse({
    description:
      'VALIDATION.INVALID, METERING.INVALID_METER_KEY, METERING.INVALID_AGGREGATION, METERING.VALUE_FIELD_REQUIRED, METERING.VALUE_FIELD_UNUSED',
  })
  @ApiConflictResponse({ description: 'METERING.METER_EXISTS' })
  @ApiForbiddenResponse({ description: 'AUTH.FORBIDDEN' })
  define(@Body() body: DefineMeterDto, @CommandMeta() meta: CommandMetadata): Promise<MeterView> {
    return this.metering.defineMeter(body, meta);
  }
}

const BATCH_CONTENT_TYPE = 'application/cloudevents-batch+json';
// Fastify would also hand over text/plain as a string; usage is JSON only.
const USAGE_CONTENT_TYPES = ['application/json', 'application/cloudevents+json', BATCH_CONTENT_TYPE];

// A single event refused answers like any refused request; these say with which status.
const KIND_BY_CODE: Readonly<Record<string, ErrorKind>> = {
  'METERING.SUBJECT_NOT_FOUND': 'not_found',
  'METERING.CONFLICT': 'conflict',
};

const countsOf = (results: UsageResult[]): UsageBatchView => ({
  results,
  accepted: results.filter((r) => r.status === 'accepted').length,
  duplicates: results.filter((r) => r.status === 'duplicate').length,
  rejected: results.filter((r) => r.status === 'rejected').length,
});

@ApiTags('metering')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ description: UNAUTHENTICATED })
@Controller('v1/usage')
export class UsageController {
  constructor(private readonly metering: MeteringService) {}

  @Post()
  @Roles('integrator', 'admin')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Publish usage: one CloudEvents 1.0 structured event, a JSON array, or application/cloudevents-batch+json.',
    description:
      '`(source, id)` is the identity: a repeat with the same content is `duplicate` and counts zero times; with ' +
      'other content it is rejected METERING.CONFLICT. A batch answers 200 with one result per event (accepted, ' +
      'duplicate, or rejected with code and field); rejected events store nothing, the others are kept. A single ' +
      'event answers 201 (accepted), 200 (duplicate), or an error: 400 (invalid), 404 METERING.SUBJECT_NOT_FOUND ' +
      '(no such allocation, or not yours), 409 METERING.CONFLICT. Per-event codes: METERING.INVALID_EVENT, ' +
      'MISSING_FIELD, INVALID_FIELD, UNSUPPORTED_SPECVERSION, INVALID_TIME, UNKNOWN_METER, NOT_A_DECIMAL_STRING, ' +
      'MALFORMED_DECIMAL, NEGATIVE_QUANTITY, FUTURE_TIME, TOO_OLD, SUBJECT_NOT_FOUND, CONFLICT. Usage whose time ' +
      'lies in a billing period already closed is still accepted, with `late: true`: billing books it as an ' +
      'adjustment in the next open period.',
  })
  @ApiBody({ schema: { oneOf: [{ type: 'object' }, { type: 'array', items: { type: 'object' } }] } })
  @ApiOkResponse({ type: UsageBatchView, description: 'A batch (per-event results), or a single duplicate.' })
  @ApiCreatedResponse({ type: UsageResultView, description: 'A single event, accepted.' })
  @ApiBadRequestResponse({
    description:
      'HTTP.MALFORMED_BODY, METERING.EMPTY_BATCH, METERING.BATCH_TOO_LARGE, METERING.BATCH_NOT_ARRAY, or a single event refused',
  })
  @ApiNotFoundResponse({ description: 'METERING.SUBJECT_NOT_FOUND (single event)' })
  @ApiConflictResponse({ description: 'METERING.CONFLICT (single event)' })
  @ApiUnsupportedMediaTypeResponse({ description: 'HTTP.UNSUPPORTED_MEDIA_TYPE' })
  @ApiForbiddenResponse({ description: 'AUTH.FORBIDDEN' })
  async publish(
    @Body() body: unknown,
    @Headers('content-type') contentType: string | undefined,
    @CurrentPrincipal() principal: Principal,
    @CommandMeta() meta: CommandMetadata,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<UsageBatchView | UsageResult> {
    const mediaType = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
    if (!USAGE_CONTENT_TYPES.includes(mediaType)) {
      throw new UnsupportedMediaTypeException(`send ${USAGE_CONTENT_TYPES.join(', ')}`);
    }
    const isBatchType = mediaType === BATCH_CONTENT_TYPE;
    if (Array.isArray(body)) {
      if (body.length === 0) throw DomainError.invalid('METERING.EMPTY_BATCH', 'the batch has no events', '');
      const max = this.metering.config.maxBatch;
      if (body.length > max) {
        // Refused whole, before anything is judged: a client must split it, and nothing of it is stored.
        throw DomainError.invalid('METERING.BATCH_TOO_LARGE', `at most ${max} events per request`, '');
      }
      return countsOf(await this.metering.ingest(body, principal, meta));
    }
    if (isBatchType) {
      throw DomainError.invalid('METERING.BATCH_NOT_ARRAY', `${BATCH_CONTENT_TYPE} must be a JSON array`, '');
    }
    const [result] = await this.metering.ingest([body], principal, meta);
    if (!result) throw new TypeError('one event, one result');
    if (result.status === 'rejected') {
      throw new DomainError(result.code, result.message, KIND_BY_CODE[result.code] ?? 'invalid', [
        { field: result.field, code: result.code },
      ]);
    }
    reply.status(result.status === 'accepted' ? 201 : 200);
    return result;
  }

  @Post(':source/:id/amend')
  @Roles('integrator', 'admin')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Replace the quantity of recorded usage, with a reason. The original is kept; aggregates count the new one.',
    description:
      "`source` and `id` are the CloudEvent's, URL-encoded. Only the account whose reading it is (or admin) may " +
      'correct it; anyone else gets 404. Repeating the last amendment exactly answers `unchanged`. Published as ' +
      'UsageAmended on cx.metering.usage.v1.',
  })
  @ApiOkResponse({ type: CorrectionView })
  @ApiBadRequestResponse({
    description:
      'METERING.MISSING_FIELD, INVALID_FIELD (reason), NOT_A_DECIMAL_STRING, MALFORMED_DECIMAL, NEGATIVE_QUANTITY (quantity)',
  })
  @ApiNotFoundResponse({ description: 'METERING.USAGE_NOT_FOUND' })
  @ApiConflictResponse({ description: 'METERING.USAGE_VOIDED' })
  @ApiUnprocessableEntityResponse({ description: 'METERING.NO_CHANGE' })
  @ApiForbiddenResponse({ description: 'AUTH.FORBIDDEN' })
  amend(
    @Param('source') source: string,
    @Param('id') id: string,
    @Body() body: AmendUsageDto,
    @CurrentPrincipal() principal: Principal,
    @CommandMeta() meta: CommandMetadata,
  ): Promise<CorrectionView> {
    return this.metering.correct(
      { source, id },
      { type: 'AmendUsage', quantity: body.quantity, reason: body.reason },
      principal,
      meta,
    );
  }

  @Post(':source/:id/void')
  @Roles('integrator', 'admin')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Void recorded usage, with a reason: it counts for nothing from now on. The original is kept.',
    description:
      'Only the account whose reading it is (or admin) may void it; anyone else gets 404. Voiding again with the ' +
      'same reason answers `unchanged`. Published as UsageVoided on cx.metering.usage.v1.',
  })
  @ApiOkResponse({ type: CorrectionView })
  @ApiBadRequestResponse({ description: 'METERING.MISSING_FIELD, INVALID_FIELD (reason)' })
  @ApiNotFoundResponse({ description: 'METERING.USAGE_NOT_FOUND' })
  @ApiConflictResponse({ description: 'METERING.USAGE_VOIDED (voided before, with another reason)' })
  @ApiForbiddenResponse({ description: 'AUTH.FORBIDDEN' })
  void(
    @Param('source') source: string,
    @Param('id') id: string,
    @Body() body: VoidUsageDto,
    @CurrentPrincipal() principal: Principal,
    @CommandMeta() meta: CommandMetadata,
  ): Promise<CorrectionView> {
    return this.metering.correct({ source, id }, { type: 'VoidUsage', reason: body.reason }, principal, meta);
  }

  @Get('aggregate')
  @ApiOperation({
    summary: 'Usage of one subject and meter per window (minute, hour or day in a timezone), from [from, to).',
    description:
      'Admin, regulator and auditor read any subject; others only allocations or accounts they are party to.',
  })
  @ApiOkResponse({ type: AggregateView })
  @ApiBadRequestResponse({
    description:
      'VALIDATION.INVALID, METERING.UNKNOWN_METER, INVALID_WINDOW, INVALID_TZ, INVALID_TIME, INVALID_RANGE, UNALIGNED_RANGE, RANGE_TOO_LARGE',
  })
  @ApiNotFoundResponse({ description: 'METERING.SUBJECT_NOT_FOUND' })
  aggregate(@Query() query: AggregateQueryDto, @CurrentPrincipal() principal: Principal): AggregateView {
    return this.metering.aggregate(query, principal);
  }
}
