import { Body, Controller, Get, HttpCode, Param, Post, Res } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnauthorizedResponse,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { CommandMeta, CurrentPrincipal, type Principal, Roles } from '@cx/auth';
import type { CommandMetadata } from '@cx/event-store';
import { AccountLedgerView, TransferDto, TransferView } from './ledger.dto';
import { BillingLedgerService, type TransferAnswer } from './ledger.http.service';

const UNAUTHENTICATED = 'AUTH.UNAUTHENTICATED, AUTH.KEY_EXPIRED or AUTH.KEY_REVOKED';
const REFUSED =
  'BILLING.EXCEEDS_CREDITS (beyond cash plus credit line), BILLING.CURRENCY_MISMATCH, or another ledger result as BILLING.<RESULT>';
const INVALID =
  'VALIDATION.INVALID, BILLING.ID_INVALID, BILLING.AMOUNT_INVALID, BILLING.AMOUNT_MUST_NOT_BE_ZERO, BILLING.AMOUNT_HAS_TOO_MANY_DECIMALS';

const answer = (reply: FastifyReply, a: TransferAnswer): TransferAnswer => {
  reply.status(a.result === 'ok' ? 201 : 200);
  return a;
};

@ApiTags('ledger')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ description: UNAUTHENTICATED })
@Controller('v1/ledger')
export class LedgerController {
  constructor(private readonly ledger: BillingLedgerService) {}

  @Post('deposits')
  @Roles('admin')
  @ApiOperation({
    summary: 'Money enters a participant account’s cash (admin).',
    description: '201 recorded; 200 the same transferId with the same body was recorded before (nothing changes).',
  })
  @ApiCreatedResponse({ type: TransferView })
  @ApiOkResponse({ type: TransferView, description: 'exists: already recorded with these fields' })
  @ApiBadRequestResponse({ description: INVALID })
  @ApiNotFoundResponse({ description: 'BILLING.ACCOUNT_NOT_FOUND' })
  @ApiConflictResponse({ description: 'BILLING.EXISTS_WITH_DIFFERENT_FIELDS' })
  @ApiUnprocessableEntityResponse({ description: REFUSED })
  @ApiForbiddenResponse({ description: 'AUTH.FORBIDDEN' })
  async deposit(
    @Body() body: TransferDto,
    @CommandMeta() meta: CommandMetadata,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<TransferView> {
    return answer(reply, await this.ledger.deposit(body, meta));
  }

  @Post('withdrawals')
  @Roles('admin')
  @ApiOperation({
    summary: 'Money leaves a participant account’s cash (admin), within its balance plus credit line.',
    description: 'A withdrawal beyond what is available is refused (422 BILLING.EXCEEDS_CREDITS) and changes nothing.',
  })
  @ApiCreatedResponse({ type: TransferView })
  @ApiOkResponse({ type: TransferView, description: 'exists: already recorded with these fields' })
  @ApiBadRequestResponse({ description: INVALID })
  @ApiNotFoundResponse({ description: 'BILLING.ACCOUNT_NOT_FOUND' })
  @ApiConflictResponse({ description: 'BILLING.EXISTS_WITH_DIFFERENT_FIELDS' })
  @ApiUnprocessableEntityResponse({ description: REFUSED })
  @ApiForbiddenResponse({ description: 'AUTH.FORBIDDEN' })
  async withdraw(
    @Body() body: TransferDto,
    @CommandMeta() meta: CommandMetadata,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<TransferView> {
    return answer(reply, await this.ledger.withdraw(body, meta));
  }

  @Get('accounts/:account')
  @Roles('admin', 'auditor', 'regulator', 'finance', 'trader')
  @HttpCode(200)
  @ApiOperation({
    summary: 'An account’s ledger balances per kind (cash, payable, receivable, held), posted and pending.',
    description: 'Finance and traders read their own accounts; admin, auditor and regulator read every account.',
  })
  @ApiOkResponse({ type: AccountLedgerView })
  @ApiNotFoundResponse({ description: 'BILLING.ACCOUNT_NOT_FOUND (also another tenant’s account)' })
  @ApiForbiddenResponse({ description: 'AUTH.FORBIDDEN' })
  account(@Param('account') account: string, @CurrentPrincipal() principal: Principal): Promise<AccountLedgerView> {
    return this.ledger.accountView(account, principal);
  }
}
