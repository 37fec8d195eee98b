import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, Res } from '@nestjs/common';
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
import { ListOfferDto, OfferPage, OffersQueryDto, OfferView, WithdrawOfferDto } from './offers.dto';
import { OffersService } from './offers.http.service';

const UNAUTHENTICATED = 'AUTH.UNAUTHENTICATED, AUTH.KEY_EXPIRED or AUTH.KEY_REVOKED';
const INVALID =
  'VALIDATION.INVALID, BILLING.OFFER_ID_INVALID, RESOURCE_CLASS_INVALID, REGION_INVALID, METER_NOT_RATABLE, ' +
  'CURRENCY_INVALID, PRICE_MODEL_UNKNOWN, TIERS_REQUIRED, TIERS_NOT_ASCENDING, LAST_TIER_MUST_BE_OPEN, ' +
  'MALFORMED_DECIMAL, NEGATIVE, NOT_POSITIVE, TOO_MANY_DECIMALS (each with the field at fault)';
const REFUSED =
  'BILLING.RATE_BELOW_FLOOR (one detail per unit price below the floor in force), ACCOUNT_NOT_PROVIDER, ' +
  'CURRENCY_MISMATCH (not the account’s currency), GUIDANCE_CURRENCY_MISMATCH';

@ApiTags('offers')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ description: UNAUTHENTICATED })
@Controller('v1/offers')
export class OffersController {
  constructor(@Inject(OffersService) private readonly offers: OffersService) {}

  @Post()
  @Roles('trader')
  @ApiOperation({
    summary: 'List an on-demand offer for one of the key’s provider accounts, priced by a rate card.',
    description:
      'The card is checked against the floor in force now for the offer’s resource class and region, in the ' +
      'meter’s unit. 201 listed; 200 the same offerId with the same terms was listed before (nothing changes).',
  })
  @ApiCreatedResponse({ type: OfferView })
  @ApiOkResponse({ type: OfferView, description: 'A retry: the offer as recorded.' })
  @ApiBadRequestResponse({ description: INVALID })
  @ApiNotFoundResponse({ description: 'BILLING.ACCOUNT_NOT_FOUND (also an account the key does not act for)' })
  @ApiConflictResponse({ description: 'BILLING.OFFER_EXISTS_WITH_DIFFERENT_FIELDS' })
  @ApiUnprocessableEntityResponse({ description: REFUSED })
  @ApiForbiddenResponse({ description: 'AUTH.FORBIDDEN' })
  async list(
    @CurrentPrincipal() p: Principal,
    @Body() body: ListOfferDto,
    @CommandMeta() meta: CommandMetadata,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<OfferView> {
    const { offer, created } = await this.offers.list(p, body, meta);
    void reply.status(created ? 201 : 200);
    return offer;
  }

  @Get()
  @ApiOperation({ summary: 'Offers on the market, by id; filter by provider, resource class or status.' })
  @ApiOkResponse({ type: OfferPage })
  @ApiBadRequestResponse({ description: 'PAGINATION.INVALID_LIMIT, PAGINATION.INVALID_CURSOR, VALIDATION.INVALID' })
  page(@Query() q: OffersQueryDto): OfferPage {
    return this.offers.page(q);
  }

  @Get(':id')
  @ApiOperation({ summary: 'One offer.' })
  @ApiOkResponse({ type: OfferView })
  @ApiNotFoundResponse({ description: 'BILLING.OFFER_NOT_FOUND' })
  get(@Param('id') id: string): OfferView {
    return this.offers.get(id);
  }

  @Post(':id/withdraw')
  @Roles('trader', 'admin')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Withdraw an offer (its provider’s trader, or admin). Usage already rated stays rated.',
    description: 'Withdrawing a withdrawn offer answers it as it is and records nothing.',
  })
  @ApiOkResponse({ type: OfferView })
  @ApiBadRequestResponse({ description: 'VALIDATION.INVALID, BILLING.REASON_INVALID' })
  @ApiNotFoundResponse({ description: 'BILLING.OFFER_NOT_FOUND (also another tenant’s offer)' })
  @ApiForbiddenResponse({ description: 'AUTH.FORBIDDEN' })
  withdraw(
    @CurrentPrincipal() p: Principal,
    @Param('id') id: string,
    @Body() body: WithdrawOfferDto,
    @CommandMeta() meta: CommandMetadata,
  ): Promise<OfferView> {
    return this.offers.withdraw(p, id, body?.reason ?? null, meta);
  }
}
