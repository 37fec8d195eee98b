import { Controller, Get, Headers, Param, Post, Query, Res } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiQuery,
  ApiTags,
  ApiUnauthorizedResponse,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import { IsOptional, IsString } from 'class-validator';
import type { FastifyReply } from 'fastify';
import { CommandMeta, CurrentPrincipal, type Principal, Roles } from '@cx/auth';
import type { CommandMetadata } from '@cx/event-store';
import { PageQueryDto } from '@cx/platform';
import { DomainError, type Page, parsePageRequest } from '@cx/shared-kernel';
import type { CloseResult } from '../application/period-close.service';
import { type StatementHeader, StatementsHttpService, type TransferLine } from './statements.http.service';

const UNAUTHENTICATED = 'AUTH.UNAUTHENTICATED, AUTH.KEY_EXPIRED or AUTH.KEY_REVOKED';
const READERS = ['admin', 'auditor', 'regulator', 'finance', 'trader'] as const;

class TransfersQueryDto extends PageQueryDto {
  @IsString()
  account!: string;
}

class StatementQueryDto {
  @IsOptional()
  @IsString()
  version?: string;

  @IsOptional()
  @IsString()
  format?: string;
}

@ApiTags('billing')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ description: UNAUTHENTICATED })
@Controller('v1')
export class StatementsController {
  constructor(private readonly http: StatementsHttpService) {}

  @Post('periods/:period/close')
  @Roles('admin')
  @ApiOperation({
    summary: 'Closes a UTC day (settles it, publishes the close, issues statements) or a UTC month (admin).',
    description:
      'Only after the period’s end plus the late-usage grace; days close in order. 201 closed; 200 an interrupted ' +
      'close was finished. Refused settlements (e.g. a buyer without funds) leave the period open (422).',
  })
  @ApiOkResponse({ description: 'closed (resumed: true when an earlier call had been interrupted)' })
  @ApiBadRequestResponse({ description: 'BILLING.PERIOD_INVALID' })
  @ApiConflictResponse({ description: 'BILLING.PERIOD_ALREADY_CLOSED' })
  @ApiUnprocessableEntityResponse({
    description:
      'BILLING.PERIOD_GRACE_NOT_OVER, BILLING.EARLIER_PERIOD_OPEN, BILLING.PERIOD_OUT_OF_ORDER, ' +
      'BILLING.PERIOD_DAYS_OPEN, BILLING.SETTLEMENT_REFUSED',
  })
  @ApiForbiddenResponse({ description: 'AUTH.FORBIDDEN' })
  async close(
    @Param('period') period: string,
    @CommandMeta() meta: CommandMetadata,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<CloseResult> {
    const result = await this.http.close(period, meta);
    reply.status(result.resumed ? 200 : 201);
    return result;
  }

  @Get('statements/:account')
  @Roles(...READERS)
  @ApiOperation({ summary: 'The account’s statements (latest version of each), by period.' })
  @ApiNotFoundResponse({ description: 'another tenant’s account lists nothing' })
  @ApiForbiddenResponse({ description: 'AUTH.FORBIDDEN' })
  list(
    @Param('account') account: string,
    @Query() q: PageQueryDto,
    @CurrentPrincipal() principal: Principal,
  ): Page<StatementHeader> {
    return this.http.list(account, principal, parsePageRequest(q));
  }

  @Get('statements/:account/:period')
  @Roles(...READERS)
  @ApiOperation({
    summary: 'One statement: JSON by default, CSV with `Accept: text/csv` (or `?format=csv`). Streamed.',
    description:
      'Opening balance, one line per settlement/adjustment/deposit/withdrawal/note, fees, shortfalls, reading ' +
      'differences, totals, closing balance, guidance versions, `contentHash` (business content only) and ' +
      '`builtFrom`. Answers the latest version (`version`, and `supersedes` on a reissue); `?version=N` reads ' +
      'version N. A credit or debit note reissues the statement: the new version lists the notes under ' +
      '`adjustments` with `adjustedTotals`; earlier versions stay as issued. In CSV the notes follow the closing ' +
      'balance row, then an `adjusted_closing_balance` row.',
  })
  @ApiProduces('application/json', 'text/csv')
  @ApiQuery({ name: 'version', required: false })
  @ApiQuery({ name: 'format', required: false, enum: ['json', 'csv'] })
  @ApiBadRequestResponse({ description: 'BILLING.PERIOD_INVALID, BILLING.VERSION_INVALID, BILLING.FORMAT_INVALID' })
  @ApiNotFoundResponse({
    description: 'BILLING.STATEMENT_NOT_FOUND (also another tenant’s), BILLING.STATEMENT_VERSION_NOT_FOUND',
  })
  @ApiForbiddenResponse({ description: 'AUTH.FORBIDDEN' })
  async statement(
    @Param('account') account: string,
    @Param('period') period: string,
    @Query() q: StatementQueryDto,
    @Headers('accept') accept: string | undefined,
    @CurrentPrincipal() principal: Principal,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    if (q.format !== undefined && q.format !== 'json' && q.format !== 'csv') {
      throw DomainError.invalid('BILLING.FORMAT_INVALID', 'format must be json or csv', 'format');
    }
    const h = this.http.header(account, period, principal, q.version);
    const csv = q.format === 'csv' || (q.format === undefined && (accept ?? '').includes('text/csv'));
    const name = `${h.statementId}.${csv ? 'csv' : 'json'}`;
    await reply
      .status(200)
      .header('content-type', csv ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8')
      .header('content-disposition', `attachment; filename="${name}"`)
      .header('x-content-hash', h.contentHash)
      .send(csv ? this.http.csv(h) : this.http.json(h));
  }

  @Get('ledger/transfers')
  @Roles(...READERS)
  @ApiOperation({ summary: 'The account’s ledger movements (every kind, holds included), oldest first.' })
  @ApiNotFoundResponse({ description: 'BILLING.ACCOUNT_NOT_FOUND (also another tenant’s)' })
  @ApiForbiddenResponse({ description: 'AUTH.FORBIDDEN' })
  transfers(@Query() q: TransfersQueryDto, @CurrentPrincipal() principal: Principal): Promise<Page<TransferLine>> {
    return this.http.transfers(q.account, principal, parsePageRequest(q));
  }
}
