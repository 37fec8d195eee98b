import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsObject, IsOptional, IsString, MaxLength, ValidateNested } from 'class-validator';
import { PageQueryDto } from '@cx/platform';

// Requests and answers of the reference index, the alerts and the market status. The DTOs check types; the
// deciders and the service check meaning with PRICING.* codes.

export class IndexQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ description: 'A region; absent: the national index.', example: 'cn-east-1' })
  @IsOptional()
  @IsString()
  @MaxLength(32)
  region?: string;

  @ApiPropertyOptional({ enum: ['daily', 'intraday'], default: 'daily' })
  @IsOptional()
  @IsIn(['daily', 'intraday'])
  window?: 'daily' | 'intraday';

  @ApiPropertyOptional({
    description:
      'Windows starting at or after it: a UTC day or an ISO 8601 instant (default: 30 days, intraday 1 day, before `to`).',
    example: '2026-03-01',
  })
  @IsOptional()
  @IsString()
  @MaxLength(40)
  from?: string;

  @ApiPropertyOptional({ description: 'Windows starting before it (default now).', example: '2026-03-11' })
  @IsOptional()
  @IsString()
  @MaxLength(40)
  to?: string;

  @ApiPropertyOptional({
    enum: ['latest', 'all'],
    default: 'latest',
    description: 'Daily: the latest version of each day, or every version.',
  })
  @IsOptional()
  @IsIn(['latest', 'all'])
  versions?: 'latest' | 'all';
}

export class IndexValueView {
  @ApiProperty({ example: 'nvidia-h100-sxm-80g.cn-east-1.CNY.daily:2026-03-10' }) indexId!: string;
  @ApiProperty() resourceClass!: string;
  @ApiProperty({ nullable: true, type: String }) region!: string | null;
  @ApiProperty({ example: 'CNY' }) currency!: string;
  @ApiProperty({ enum: ['daily', 'intraday'] }) window!: 'daily' | 'intraday';
  @ApiProperty() windowStart!: string;
  @ApiProperty() windowEnd!: string;
  @ApiProperty({ description: '1, 2, 3… within the series; a late trade adds a version.' }) version!: number;
  @ApiProperty({ description: 'Per accelerator-hour, rounded half-even to the minor unit.', example: '21.37' })
  vwap!: string;
  @ApiProperty({ description: 'Σ price × quantity, exact.' }) notional!: string;
  @ApiProperty({ description: 'Accelerator-hours, exact.' }) volume!: string;
  @ApiProperty() tradeCount!: number;
  @ApiProperty({ description: 'A late trade revised a day already followed by a later one.' }) revision!: boolean;
  @ApiProperty() tradeId!: string;
  @ApiProperty() publishedAt!: string;
}

export class IndexPage {
  @ApiProperty({ type: [IndexValueView] }) items!: IndexValueView[];
  @ApiProperty({ nullable: true, type: String }) nextCursor!: string | null;
}

export class AlertQueryDto extends PageQueryDto {
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(64) resourceClass?: string;

  @ApiPropertyOptional({ enum: ['near-floor', 'consecutive-decline', 'floor-clustering', 'circuit-breaker'] })
  @IsOptional()
  @IsIn(['near-floor', 'consecutive-decline', 'floor-clustering', 'circuit-breaker'])
  rule?: string;
}

export class AlertView {
  @ApiProperty() alertId!: string;
  @ApiProperty({ enum: ['near-floor', 'consecutive-decline', 'floor-clustering', 'circuit-breaker'] }) rule!: string;
  @ApiProperty() resourceClass!: string;
  @ApiProperty({ nullable: true, type: String }) region!: string | null;
  @ApiProperty({ nullable: true, type: String }) instrumentId!: string | null;
  @ApiProperty() currency!: string;
  @ApiProperty({ example: '2026-03-10' }) day!: string;
  @ApiProperty({ example: '1.25' }) observedPercent!: string;
  @ApiProperty({ example: '3' }) thresholdPercent!: string;
  @ApiProperty({ nullable: true, type: String }) price!: string | null;
  @ApiProperty({ nullable: true, type: String }) floor!: string | null;
  @ApiProperty() message!: string;
  @ApiProperty({ description: 'Business time of the trade that raised it.' }) raisedAt!: string;
  @ApiProperty() tradeId!: string;
  @ApiProperty({ nullable: true, type: String }) haltId!: string | null;
}

export class AlertPage {
  @ApiProperty({ type: [AlertView] }) items!: AlertView[];
  @ApiProperty({ nullable: true, type: String }) nextCursor!: string | null;
}

export class HaltScopeDto {
  @ApiPropertyOptional({ example: 'nvidia-h100-sxm-80g' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  resourceClass?: string;
  @ApiPropertyOptional({ example: 'cn-east-1' }) @IsOptional() @IsString() @MaxLength(32) region?: string;
  @ApiPropertyOptional({ example: 'nvidia-h100-sxm-80g.cn-east-1.2026-03-10' })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  instrumentId?: string;
}

export class HaltMarketDto {
  @ApiPropertyOptional({ type: HaltScopeDto, description: 'Absent or empty: the whole market.' })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => HaltScopeDto)
  scope?: HaltScopeDto;

  @ApiProperty({ example: 'disorderly trading after a data-centre outage' })
  @IsString()
  @MaxLength(500)
  reason!: string;

  @ApiPropertyOptional({ description: 'Resume automatically at this instant; absent: until resumed by hand.' })
  @IsOptional()
  @IsString()
  @MaxLength(40)
  resumesAt?: string;
}

export class ResumeMarketDto {
  @ApiProperty({ example: 'orderly conditions restored' })
  @IsString()
  @MaxLength(500)
  reason!: string;
}

export class MarketStatusQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: ['active', 'all'], default: 'active' })
  @IsOptional()
  @IsIn(['active', 'all'])
  state?: 'active' | 'all';
}

export class HaltActorView {
  @ApiProperty({ nullable: true, type: String }) keyId!: string | null;
  @ApiProperty({ nullable: true, type: String }) role!: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'The surveillance rule that acted.' }) rule!: string | null;
}

export class HaltScopeView {
  @ApiProperty({ nullable: true, type: String }) resourceClass!: string | null;
  @ApiProperty({ nullable: true, type: String }) region!: string | null;
  @ApiProperty({ nullable: true, type: String }) instrumentId!: string | null;
}

export class HaltResumedView {
  @ApiProperty() at!: string;
  @ApiProperty() reason!: string;
  @ApiProperty() automatic!: boolean;
  @ApiProperty({ type: HaltActorView }) by!: HaltActorView;
}

export class HaltView {
  @ApiProperty() haltId!: string;
  @ApiProperty({ enum: ['halted', 'resumed'] }) status!: 'halted' | 'resumed';
  @ApiProperty({ type: HaltScopeView }) scope!: HaltScopeView;
  @ApiProperty() reason!: string;
  @ApiProperty({ enum: ['manual', 'circuit-breaker'] }) origin!: 'manual' | 'circuit-breaker';
  @ApiProperty({ type: HaltActorView }) haltedBy!: HaltActorView;
  @ApiProperty() haltedAt!: string;
  @ApiProperty({ nullable: true, type: String }) resumesAt!: string | null;
  @ApiProperty({ nullable: true, type: HaltResumedView }) resumed!: HaltResumedView | null;
}

export class MarketStatusPage {
  @ApiProperty({ type: [HaltView] }) items!: HaltView[];
  @ApiProperty({ nullable: true, type: String }) nextCursor!: string | null;
}
