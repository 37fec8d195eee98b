import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { CommandMeta, CurrentPrincipal, type Principal, Roles } from '@cx/auth';
import type { CommandMetadata } from '@cx/event-store';
import type { Page } from '@cx/shared-kernel';
import {
  type AlertRuleView,
  type AttemptListView,
  type WebhookView,
  WebhooksService,
} from '../application/webhooks.service';
import type { AlertView } from '../application/webhooks.read-model';
import { CreateAlertRuleDto, RegisterWebhookDto, WebhooksPageQueryDto } from './webhooks.dto';

const UNAUTHENTICATED = 'AUTH.UNAUTHENTICATED, AUTH.KEY_EXPIRED or AUTH.KEY_REVOKED';
const OWNERS = ['trader', 'integrator', 'finance'] as const;
const NOT_FOUND = 'WEBHOOKS.NOT_FOUND (also another tenant’s webhook)';

@ApiTags('notifications')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ description: UNAUTHENTICATED })
@ApiForbiddenResponse({ description: 'AUTH.FORBIDDEN (only trader, integrator and finance keys have webhooks)' })
@Roles(...OWNERS)
@Controller('v1/webhooks')
export class WebhooksController {
  constructor(@Inject(WebhooksService) private readonly webhooks: WebhooksService) {}

  @Post()
  @ApiOperation({
    summary: 'Register an endpoint for the key’s own accounts; the signing secret is in this answer only.',
    description:
      'Each delivery is a POST of {id, type, time, data} with `cx-signature: t=<unix>,v1=<hex HMAC-SHA256(secret, ' +
      't + "." + body)>`; verify it and refuse timestamps older than 5 minutes. At least once: dedupe on `id`. ' +
      'Per-endpoint ordering is not promised.',
  })
  @ApiCreatedResponse({ description: 'The endpoint, with `secret`.' })
  @ApiBadRequestResponse({
    description:
      'VALIDATION.INVALID, WEBHOOKS.INVALID_URL, WEBHOOKS.PRIVATE_ADDRESS, WEBHOOKS.UNKNOWN_EVENT_TYPE, ' +
      'WEBHOOKS.NO_EVENT_TYPES, WEBHOOKS.NO_ACCOUNTS (each with the field at fault)',
  })
  @ApiNotFoundResponse({ description: 'WEBHOOKS.ACCOUNT_NOT_FOUND (an account the key does not act for)' })
  register(
    @CurrentPrincipal() p: Principal,
    @Body() body: RegisterWebhookDto,
    @CommandMeta() meta: CommandMetadata,
  ): Promise<WebhookView & { secret: string }> {
    return this.webhooks.register(p, body, meta);
  }

  @Get()
  @ApiOperation({ summary: 'The key’s endpoints (never their secrets).' })
  list(@CurrentPrincipal() p: Principal, @Query() q: WebhooksPageQueryDto): Promise<Page<WebhookView>> {
    return this.webhooks.list(p, q);
  }

  @Get(':id')
  @ApiOperation({ summary: 'One endpoint (never its secret).' })
  @ApiNotFoundResponse({ description: NOT_FOUND })
  get(@CurrentPrincipal() p: Principal, @Param('id') id: string): Promise<WebhookView> {
    return this.webhooks.get(p, id);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete an endpoint; its pending deliveries are given up.' })
  @ApiNoContentResponse()
  @ApiNotFoundResponse({ description: NOT_FOUND })
  async delete(
    @CurrentPrincipal() p: Principal,
    @Param('id') id: string,
    @CommandMeta() meta: CommandMetadata,
  ): Promise<void> {
    await this.webhooks.delete(p, id, meta);
  }

  @Post(':id/rotate-secret')
  @ApiOperation({ summary: 'A new signing secret, in this answer only; later attempts are signed with it.' })
  @ApiCreatedResponse()
  @ApiNotFoundResponse({ description: NOT_FOUND })
  rotate(
    @CurrentPrincipal() p: Principal,
    @Param('id') id: string,
    @CommandMeta() meta: CommandMetadata,
  ): Promise<{ webhookId: string; secret: string }> {
    return this.webhooks.rotateSecret(p, id, meta);
  }

  @Get(':id/deliveries')
  @ApiOperation({ summary: 'Deliveries to the endpoint, with every attempt’s status code and latency.' })
  @ApiOkResponse()
  @ApiNotFoundResponse({ description: NOT_FOUND })
  deliveries(
    @CurrentPrincipal() p: Principal,
    @Param('id') id: string,
    @Query() q: WebhooksPageQueryDto,
  ): Promise<Page<AttemptListView>> {
    return this.webhooks.deliveries(p, id, q);
  }

  @Post(':id/deliveries/:deliveryId/redeliver')
  @ApiOperation({ summary: 'Send a delivery again (same event id); its retry window starts now.' })
  @ApiCreatedResponse()
  @ApiNotFoundResponse({ description: NOT_FOUND })
  redeliver(
    @CurrentPrincipal() p: Principal,
    @Param('id') id: string,
    @Param('deliveryId') deliveryId: string,
    @CommandMeta() meta: CommandMetadata,
  ): Promise<AttemptListView> {
    return this.webhooks.redeliver(p, id, deliveryId, meta);
  }
}

@ApiTags('notifications')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ description: UNAUTHENTICATED })
@ApiForbiddenResponse({ description: 'AUTH.FORBIDDEN' })
@Roles(...OWNERS)
@Controller('v1/alert-rules')
export class AlertRulesController {
  constructor(@Inject(WebhooksService) private readonly webhooks: WebhooksService) {}

  @Post()
  @ApiOperation({ summary: 'An alert rule for one of the key’s accounts; each firing is an alert.raised.' })
  @ApiCreatedResponse()
  @ApiBadRequestResponse({
    description: 'WEBHOOKS.UNKNOWN_RULE_KIND, WEBHOOKS.INVALID_ALERT_RULE (details name each field at fault)',
  })
  @ApiNotFoundResponse({ description: 'WEBHOOKS.ACCOUNT_NOT_FOUND' })
  create(
    @CurrentPrincipal() p: Principal,
    @Body() body: CreateAlertRuleDto,
    @CommandMeta() meta: CommandMetadata,
  ): Promise<AlertRuleView> {
    return this.webhooks.createRule(p, body, meta);
  }

  @Get()
  @ApiOperation({ summary: 'The rules of the key’s accounts.' })
  list(@CurrentPrincipal() p: Principal, @Query() q: WebhooksPageQueryDto): Promise<Page<AlertRuleView>> {
    return this.webhooks.rules(p, q);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete one of the key’s rules: it fires no more; the alerts it raised stay listed.' })
  @ApiNoContentResponse()
  @ApiNotFoundResponse({ description: 'WEBHOOKS.ALERT_RULE_NOT_FOUND (also another tenant’s rule)' })
  async delete(
    @CurrentPrincipal() p: Principal,
    @Param('id') id: string,
    @CommandMeta() meta: CommandMetadata,
  ): Promise<void> {
    await this.webhooks.deleteRule(p, id, meta);
  }
}

@ApiTags('notifications')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ description: UNAUTHENTICATED })
@ApiForbiddenResponse({ description: 'AUTH.FORBIDDEN' })
@Roles(...OWNERS)
@Controller('v1/alerts/mine')
export class MyAlertsController {
  constructor(@Inject(WebhooksService) private readonly webhooks: WebhooksService) {}

  @Get()
  @ApiOperation({ summary: 'Alerts raised for the key’s accounts (its rules, failing endpoints), in order raised.' })
  list(@CurrentPrincipal() p: Principal, @Query() q: WebhooksPageQueryDto): Promise<Page<AlertView>> {
    return this.webhooks.myAlerts(p, q);
  }
}
