import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Allow, IsBoolean, IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
import { aggregations } from '../domain/meter/meter.events';
import { windowSizes } from '../domain/usage/usage-aggregate';

// Request and response shapes. The DTOs check types (and document them in OpenAPI); the domain checks meaning
// with METERING.* codes. Usage bodies are not DTOs: each event of a batch is judged on its own (usage.validation).

export class DefineMeterDto {
  @ApiProperty({ example: 'accelerator_seconds', description: '^[a-z][a-z0-9_]{0,62}$' })
  @IsString()
  @MaxLength(63)
  key!: string;

  @ApiProperty({ example: 'second' })
  @IsString()
  @MaxLength(32)
  unit!: string;

  @ApiProperty({ enum: aggregations })
  @IsString()
  aggregation!: string;

  @ApiPropertyOptional({ description: 'UNIQUE_COUNT only: the data.dimensions key whose distinct values count.' })
  @IsOptional()
  @IsString()
  @MaxLength(63)
  valueField?: string;

  @ApiProperty()
  @IsBoolean()
  billable!: boolean;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(500)
  description?: string;
}

export class MeterView {
  @ApiProperty() key!: string;
  @ApiProperty() unit!: string;
  @ApiProperty({ enum: aggregations }) aggregation!: string;
  @ApiProperty({ nullable: true, type: String }) valueField!: string | null;
  @ApiProperty() billable!: boolean;
  @ApiProperty() description!: string;
}

export class MeterPage {
  @ApiProperty({ type: [MeterView] }) items!: MeterView[];
  @ApiProperty({ nullable: true, type: String }) nextCursor!: string | null;
}

export class AggregateQueryDto {
  @ApiProperty({ description: 'An allocation id, or an account id (offer usage).' })
  @IsString()
  @MaxLength(256)
  subject!: string;

  @ApiProperty({ example: 'accelerator_seconds' })
  @IsString()
  @MaxLength(63)
  meter!: string;

  @ApiProperty({ description: 'RFC 3339, inclusive, a whole minute.' })
  @IsString()
  from!: string;

  @ApiProperty({ description: 'RFC 3339, exclusive, a whole minute.' })
  @IsString()
  to!: string;

  @ApiPropertyOptional({ enum: windowSizes, default: 'hour' })
  @IsOptional()
  @IsString()
  window?: string;

  @ApiPropertyOptional({ description: 'IANA timezone the hours and days are cut in.', default: 'UTC' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  tz?: string;

  @ApiPropertyOptional({
    enum: ['provider', 'buyer', 'account', 'all'],
    default: 'all',
    description: "Whose readings: for an allocation the provider's count and the buyer's are evidence.",
  })
  @IsOptional()
  @IsIn(['provider', 'buyer', 'account', 'all'])
  reporter?: string;
}

export class AggregateWindowView {
  @ApiProperty({ description: 'First instant of the window.' }) start!: string;
  @ApiProperty({ description: 'The window in local time (tz).' }) label!: string;
  @ApiProperty({ description: 'Decimal string.' }) value!: string;
  @ApiProperty() events!: number;
}

export class AggregateView {
  @ApiProperty() subject!: string;
  @ApiProperty() meter!: string;
  @ApiProperty() unit!: string;
  @ApiProperty() aggregation!: string;
  @ApiProperty() window!: string;
  @ApiProperty() tz!: string;
  @ApiProperty() from!: string;
  @ApiProperty() to!: string;
  @ApiProperty({ type: [AggregateWindowView] }) windows!: AggregateWindowView[];
}

export class UsageResultView {
  @ApiProperty() index!: number;
  @ApiProperty({ nullable: true, type: String }) source!: string | null;
  @ApiProperty({ nullable: true, type: String }) id!: string | null;
  @ApiProperty({ enum: ['accepted', 'duplicate', 'rejected'] }) status!: string;
  @ApiPropertyOptional({ description: 'METERING.* when rejected' }) code?: string;
  @ApiPropertyOptional() field?: string;
  @ApiPropertyOptional() message?: string;
  @ApiPropertyOptional({
    description: 'Accepted or duplicate: the usage lies in a billing period already closed (booked as an adjustment).',
  })
  late?: boolean;
}

export class UsageBatchView {
  @ApiProperty({ type: [UsageResultView] }) results!: UsageResultView[];
  @ApiProperty() accepted!: number;
  @ApiProperty() duplicates!: number;
  @ApiProperty() rejected!: number;
}

// Correction bodies: the fields are allowed through untyped on purpose, so that a wrong value is answered with the
// domain's METERING.* code and field (the same decimal rules as a reading) rather than a generic VALIDATION.INVALID.
export class AmendUsageDto {
  @ApiProperty({ example: '3600', description: 'The quantity that counts from now on: a non-negative decimal string.' })
  @Allow()
  quantity?: unknown;

  @ApiProperty({ example: 'agent double-counted a restart', maxLength: 500 })
  @Allow()
  reason?: unknown;
}

export class VoidUsageDto {
  @ApiProperty({ example: 'test traffic', maxLength: 500 })
  @Allow()
  reason?: unknown;
}

export class CorrectionView {
  @ApiProperty() source!: string;
  @ApiProperty() id!: string;
  @ApiProperty({
    enum: ['amended', 'voided', 'unchanged'],
    description: 'unchanged: this repeated the last correction',
  })
  outcome!: string;
  @ApiProperty({ description: 'The quantity that counts now, "0" once void.' }) quantity!: string;
  @ApiProperty() voided!: boolean;
  @ApiProperty({ description: 'The usage lies in a period billing has closed: billing books it as an adjustment.' })
  late!: boolean;
}
