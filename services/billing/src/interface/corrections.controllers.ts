import { Body, Controller, Get, Param, Post, Res } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOperation,
  ApiProperty,
  ApiPropertyOptional,
  ApiTags,
  ApiUnauthorizedResponse,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import type { FastifyReply } from 'fastify';
import { CommandMeta, CurrentPrincipal, type Principal, Roles } from '@cx/auth';
import type { CommandMetadata } from '@cx/event-store';
import { currencies } from '@cx/shared-kernel';
import { CorrectionsService } from '../application/corrections.service';
import type { DisputeState, NoteIssued } from '../domain/correction/correction.decider';

const DECIMAL = /^\d{1,30}(\.\d{1,30})?$/;

export class NoteDto {
  @ApiProperty({ example: 'cn-2026-03-0001', description: 'The client’s idempotent id.' })
  @IsString()
  @MaxLength(128)
  noteId!: string;

  @ApiProperty({ enum: ['credit', 'debit'] })
  @IsIn(['credit', 'debit'])
  kind!: 'credit' | 'debit';

  @ApiProperty({ example: '12.50' })
  @IsString()
  @Matches(DECIMAL, { message: 'amount must be a plain decimal string' })
  amount!: string;

  @ApiProperty({ enum: currencies, example: 'CNY' })
  @IsIn(currencies)
  currency!: string;

  @ApiProperty({ example: 'goodwill for the maintenance window on 2026-03-11' })
  @IsString()
  @MaxLength(500)
  reason!: string;

  @ApiPropertyOptional({ description: 'Who pays a credit note (or receives a debit note); the exchange by default.' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  counterparty?: string;
}

export class DisputeDto {
  @ApiProperty({ example: 'dsp-0001' })
  @IsString()
  @MaxLength(128)
  disputeId!: string;

  @ApiProperty()
  @IsString()
  @MaxLength(256)
  allocationId!: string;

  @ApiProperty({ description: 'The disputing party: the allocation’s buyer or provider account.' })
  @IsString()
  @MaxLength(64)
  account!: string;

  @ApiProperty({ example: '7.5', description: 'Accelerator-hours the party says were delivered.' })
  @IsString()
  @Matches(DECIMAL, { message: 'claimedHours must be a plain decimal string' })
  claimedHours!: string;

  @ApiProperty()
  @IsString()
  @MaxLength(500)
  reason!: string;
}

export class ResolveDisputeDto {
  @ApiProperty({ enum: ['buyer', 'provider'] })
  @IsIn(['buyer', 'provider'])
  inFavourOf!: 'buyer' | 'provider';

  @ApiProperty()
  @IsString()
  @MaxLength(500)
  reason!: string;
}

@ApiTags('billing')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ description: 'AUTH.UNAUTHENTICATED, AUTH.KEY_EXPIRED or AUTH.KEY_REVOKED' })
@Controller('v1')
export class CorrectionsController {
  constructor(private readonly corrections: CorrectionsService) {}

  @Post('statements/:account/:period/notes')
  @Roles('finance', 'admin')
  @ApiOperation({
    summary: 'Issues a credit or debit note against an issued statement (finance of the account, or admin).',
    description:
      'The statement is never edited: the note references it and its money is booked now, in the open period. ' +
      '201 issued; 200 the same noteId and body again.',
  })
  @ApiCreatedResponse({ description: 'the note' })
  @ApiBadRequestResponse({ description: 'VALIDATION.INVALID, BILLING.NOTE_ID_INVALID, BILLING.NOT_POSITIVE' })
  @ApiNotFoundResponse({ description: 'BILLING.STATEMENT_NOT_FOUND (also another tenant’s)' })
  @ApiConflictResponse({ description: 'BILLING.NOTE_EXISTS_WITH_DIFFERENT_FIELDS' })
  @ApiUnprocessableEntityResponse({
    description: 'BILLING.CURRENCY_MISMATCH, BILLING.COUNTERPARTY_INVALID, BILLING.EXCEEDS_CREDITS',
  })
  @ApiForbiddenResponse({ description: 'AUTH.FORBIDDEN' })
  async issueNote(
    @Param('account') account: string,
    @Param('period') period: string,
    @Body() body: NoteDto,
    @CurrentPrincipal() principal: Principal,
    @CommandMeta() meta: CommandMetadata,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<NoteIssued['data']> {
    const { note, result } = await this.corrections.issueNote(account, period, body, principal, meta);
    reply.status(result === 'ok' ? 201 : 200);
    return note;
  }

  @Get('statements/:account/:period/notes')
  @Roles('admin', 'auditor', 'regulator', 'finance', 'trader')
  @ApiOperation({ summary: 'Notes issued against the statement.' })
  @ApiNotFoundResponse({ description: 'BILLING.STATEMENT_NOT_FOUND (another tenant’s)' })
  notes(
    @Param('account') account: string,
    @Param('period') period: string,
    @CurrentPrincipal() principal: Principal,
  ): { items: NoteIssued['data'][] } {
    return { items: this.corrections.notes(account, period, principal) };
  }

  @Post('disputes')
  @Roles('finance', 'trader')
  @ApiOperation({
    summary: 'A party disputes the delivered quantity billed for a settled allocation.',
    description: '201 opened; 200 the same disputeId and body again.',
  })
  @ApiBadRequestResponse({ description: 'VALIDATION.INVALID, BILLING.NOTHING_TO_DISPUTE, BILLING.DISPUTE_ID_INVALID' })
  @ApiNotFoundResponse({ description: 'BILLING.ALLOCATION_NOT_FOUND (also another tenant’s)' })
  @ApiConflictResponse({ description: 'BILLING.DISPUTE_EXISTS_WITH_DIFFERENT_FIELDS' })
  @ApiUnprocessableEntityResponse({ description: 'BILLING.NOT_SETTLED' })
  async openDispute(
    @Body() body: DisputeDto,
    @CurrentPrincipal() principal: Principal,
    @CommandMeta() meta: CommandMetadata,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const { dispute, result } = await this.corrections.openDispute(body, principal, meta);
    reply.status(result === 'ok' ? 201 : 200);
    return dispute;
  }

  @Get('disputes/:id')
  @Roles('admin', 'auditor', 'regulator', 'finance', 'trader')
  @ApiOperation({ summary: 'A dispute and its resolution (parties, admin, auditors and regulators).' })
  @ApiNotFoundResponse({ description: 'BILLING.DISPUTE_NOT_FOUND (also another tenant’s)' })
  dispute(@Param('id') id: string, @CurrentPrincipal() principal: Principal): Promise<DisputeState> {
    return this.corrections.dispute(id, principal);
  }

  @Post('disputes/:id/resolve')
  @Roles('admin')
  @ApiOperation({
    summary: 'Resolves a dispute (admin); in the buyer’s favour it issues a credit note from the provider.',
  })
  @ApiNotFoundResponse({ description: 'BILLING.DISPUTE_NOT_FOUND' })
  @ApiConflictResponse({ description: 'BILLING.DISPUTE_ALREADY_RESOLVED' })
  @ApiUnprocessableEntityResponse({ description: 'BILLING.STATEMENT_NOT_ISSUED, BILLING.EXCEEDS_CREDITS' })
  resolve(
    @Param('id') id: string,
    @Body() body: ResolveDisputeDto,
    @CommandMeta() meta: CommandMetadata,
  ): Promise<DisputeState> {
    return this.corrections.resolveDispute(id, body, meta);
  }
}
