import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Allow, ArrayMaxSize, IsArray, IsOptional, IsString, MaxLength } from 'class-validator';
import { PageQueryDto } from '@cx/platform';
import { alertRuleKinds } from '../domain/alerts/alert-rule';
import { webhookEventTypes } from '../domain/endpoint/webhook.events';

// Request shapes. The DTOs check types (and document them in OpenAPI); the domain checks meaning and answers
// WEBHOOKS.* codes naming the field at fault.

export class RegisterWebhookDto {
  @ApiProperty({ example: 'https://hooks.example.com/cx', description: 'https; public addresses only.' })
  @IsString()
  @MaxLength(4096)
  url!: string;

  @ApiProperty({ enum: webhookEventTypes, isArray: true, example: ['trade.executed', 'statement.issued'] })
  @IsArray()
  @ArrayMaxSize(32)
  eventTypes!: unknown[];

  @ApiPropertyOptional({
    type: [String],
    description: 'The accounts whose events it receives; all of them acted for by the key. Absent: all of the key’s.',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(64)
  @IsString({ each: true })
  @MaxLength(64, { each: true })
  accounts?: string[];

  @ApiPropertyOptional({ example: 'finance ERP' })
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  description?: string;
}

export class CreateAlertRuleDto {
  @ApiProperty({ example: 'acct-buyer-01', description: 'An account the key acts for.' })
  @IsString()
  @MaxLength(64)
  accountId!: string;

  @ApiProperty({
    enum: alertRuleKinds,
    description:
      'price-level {resourceClass, region?, source: index|last-trade, direction: above|below, level}; ' +
      'price-near-band {resourceClass, region?, source, boundary: floor|ceiling, withinPercent}; ' +
      'utilization-drift {allocationId?, driftPercent}; spend {period: day|month, threshold, currency}. ' +
      'Decimal strings throughout. rearmMarginPercent (default 1): how far back past the line, in percent of ' +
      'the line, the value must move before the rule fires again.',
  })
  @Allow()
  kind!: unknown;

  @ApiPropertyOptional() @IsOptional() resourceClass?: unknown;
  @ApiPropertyOptional() @IsOptional() region?: unknown;
  @ApiPropertyOptional({ enum: ['index', 'last-trade'] }) @IsOptional() source?: unknown;
  @ApiPropertyOptional({ enum: ['above', 'below'] }) @IsOptional() direction?: unknown;
  @ApiPropertyOptional({ example: '12.50' }) @IsOptional() level?: unknown;
  @ApiPropertyOptional({ enum: ['floor', 'ceiling'] }) @IsOptional() boundary?: unknown;
  @ApiPropertyOptional({ example: '5' }) @IsOptional() withinPercent?: unknown;
  @ApiPropertyOptional() @IsOptional() allocationId?: unknown;
  @ApiPropertyOptional({ example: '20' }) @IsOptional() driftPercent?: unknown;
  @ApiPropertyOptional({ enum: ['day', 'month'] }) @IsOptional() period?: unknown;
  @ApiPropertyOptional({ example: '10000.00' }) @IsOptional() threshold?: unknown;
  @ApiPropertyOptional({ example: 'CNY' }) @IsOptional() currency?: unknown;
  @ApiPropertyOptional({ example: '1' }) @IsOptional() rearmMarginPercent?: unknown;
}

export class WebhooksPageQueryDto extends PageQueryDto {}
