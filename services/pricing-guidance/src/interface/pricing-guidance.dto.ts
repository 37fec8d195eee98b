import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsInt, IsOptional, IsString, MaxLength } from 'class-validator';
import { currencies } from '@cx/shared-kernel';
import { units } from '../domain/catalog/resource-class.events';

// Request and response shapes. The DTOs check types (and document them in OpenAPI); the deciders check meaning
// (a positive floor, a real instant, a known class), with PRICING.* codes.

export class CreateResourceClassDto {
  @ApiProperty({ description: 'Lower-case words joined by hyphens.', example: 'nvidia-b200-sxm-192g' })
  @IsString()
  @MaxLength(64)
  resourceClassId!: string;

  @ApiProperty({ example: 'NVIDIA' })
  @IsString()
  @MaxLength(64)
  vendor!: string;

  @ApiProperty({ example: 'B200 SXM' })
  @IsString()
  @MaxLength(128)
  model!: string;

  @ApiProperty({ description: 'Nominal on-package memory, GiB.', example: 192 })
  @IsInt()
  memoryGiB!: number;

  @ApiProperty({ example: 'NVLink 5 (1.8 TB/s)' })
  @IsString()
  @MaxLength(128)
  interconnect!: string;

  @ApiPropertyOptional({ enum: units, isArray: true, default: ['accelerator-hour'] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(units.length)
  @IsString({ each: true })
  units?: string[];
}

export class AmendResourceClassDto {
  @ApiPropertyOptional({ example: 'NVIDIA' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  vendor?: string;

  @ApiPropertyOptional({ example: 'B200 SXM' })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  model?: string;

  @ApiPropertyOptional({ example: 192 })
  @IsOptional()
  @IsInt()
  memoryGiB?: number;

  @ApiPropertyOptional({ example: 'NVLink 5 (1.8 TB/s)' })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  interconnect?: string;

  @ApiPropertyOptional({ enum: units, isArray: true })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(units.length)
  @IsString({ each: true })
  units?: string[];
}

export class CreateRegionDto {
  @ApiProperty({ example: 'cn-central-1' })
  @IsString()
  @MaxLength(32)
  regionId!: string;

  @ApiProperty({ example: 'Central China (Wuhan)' })
  @IsString()
  @MaxLength(128)
  name!: string;
}

export class AmendRegionDto {
  @ApiPropertyOptional({ example: 'Central China (Wuhan)' })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  name?: string;
}

const PRICE = 'A plain decimal string in the band currency, at most 6 decimal places.';

export class IssueBandDto {
  @ApiProperty({ example: 'nvidia-h100-sxm-80g' })
  @IsString()
  @MaxLength(64)
  resourceClass!: string;

  @ApiPropertyOptional({
    description: 'Absent or null: the national band. A regional band overrides the national one in its region.',
    example: 'cn-east-1',
    nullable: true,
    type: String,
  })
  @IsOptional()
  @IsString()
  @MaxLength(32)
  region?: string | null;

  @ApiPropertyOptional({ enum: currencies, default: 'CNY' })
  @IsOptional()
  @IsString()
  currency?: string;

  @ApiProperty({ description: `Floor per accelerator-hour, > 0. ${PRICE}`, example: '12.50' })
  @IsString()
  floorPerAcceleratorHour!: string;

  @ApiPropertyOptional({
    description: `Floor per 1,000 tokens, > 0. ${PRICE}`,
    example: '0.0125',
    nullable: true,
    type: String,
  })
  @IsOptional()
  @IsString()
  floorPerThousandTokens?: string | null;

  @ApiPropertyOptional({
    description: `Ceiling per accelerator-hour, ≥ floor. ${PRICE}`,
    example: '40.00',
    nullable: true,
    type: String,
  })
  @IsOptional()
  @IsString()
  ceilingPerAcceleratorHour?: string | null;

  @ApiPropertyOptional({
    description: `Reference price per accelerator-hour, within [floor, ceiling]. ${PRICE}`,
    example: '18.00',
    nullable: true,
    type: String,
  })
  @IsOptional()
  @IsString()
  referencePrice?: string | null;

  @ApiProperty({
    description: 'ISO 8601 instant with an offset, at least the configured minimum notice after now.',
    example: '2026-03-11T00:00:00Z',
  })
  @IsString()
  effectiveFrom!: string;

  @ApiPropertyOptional({
    description: 'Exclusive end; absent: until amended or withdrawn.',
    nullable: true,
    type: String,
  })
  @IsOptional()
  @IsString()
  effectiveTo?: string | null;

  @ApiProperty({ example: 'Quarterly floor review' })
  @IsString()
  @MaxLength(1000)
  reason!: string;

  @ApiProperty({ description: 'The regulator’s document reference.', example: 'NDRC-2026-041' })
  @IsString()
  @MaxLength(200)
  documentRef!: string;
}

/** Only the terms given change (null clears an optional one); every amendment says when it takes effect. */
export class AmendBandDto {
  @ApiPropertyOptional({ example: '14.00' })
  @IsOptional()
  @IsString()
  floorPerAcceleratorHour?: string;

  @ApiPropertyOptional({ nullable: true, type: String })
  @IsOptional()
  @IsString()
  floorPerThousandTokens?: string | null;

  @ApiPropertyOptional({ nullable: true, type: String })
  @IsOptional()
  @IsString()
  ceilingPerAcceleratorHour?: string | null;

  @ApiPropertyOptional({ nullable: true, type: String })
  @IsOptional()
  @IsString()
  referencePrice?: string | null;

  @ApiProperty({ example: '2026-03-12T00:00:00Z' })
  @IsString()
  effectiveFrom!: string;

  @ApiPropertyOptional({ nullable: true, type: String })
  @IsOptional()
  @IsString()
  effectiveTo?: string | null;

  @ApiProperty({ example: 'Demand spike in East China' })
  @IsString()
  @MaxLength(1000)
  reason!: string;

  @ApiProperty({ example: 'NDRC-2026-042' })
  @IsString()
  @MaxLength(200)
  documentRef!: string;
}

export class WithdrawBandDto {
  @ApiPropertyOptional({
    description: 'When the band stops applying; the earliest instant the minimum notice allows when absent.',
    nullable: true,
    type: String,
  })
  @IsOptional()
  @IsString()
  effectiveAt?: string | null;

  @ApiProperty({ example: 'Market normalised' })
  @IsString()
  @MaxLength(1000)
  reason!: string;

  @ApiProperty({ example: 'NDRC-2026-050' })
  @IsString()
  @MaxLength(200)
  documentRef!: string;
}

export class GuidanceAtQueryDto {
  @ApiPropertyOptional({
    description: 'A region: its band when one is in force, else the national band.',
    example: 'cn-east-1',
  })
  @IsOptional()
  @IsString()
  region?: string;

  @ApiPropertyOptional({
    description: 'ISO 8601 instant with an offset; now when absent.',
    example: '2026-03-11T00:00:00Z',
  })
  @IsOptional()
  @IsString()
  at?: string;
}

export class ResourceClassView {
  @ApiProperty({ example: 'nvidia-h100-sxm-80g' })
  resourceClassId!: string;

  @ApiProperty({ example: 'NVIDIA' })
  vendor!: string;

  @ApiProperty({ example: 'H100 SXM' })
  model!: string;

  @ApiProperty({ example: 80 })
  memoryGiB!: number;

  @ApiProperty({ example: 'NVLink 4 (900 GB/s)' })
  interconnect!: string;

  @ApiProperty({ enum: units, isArray: true })
  units!: string[];

  @ApiProperty({ format: 'date-time' })
  createdAt!: string;

  @ApiProperty({ format: 'date-time' })
  updatedAt!: string;
}

export class ResourceClassPage {
  @ApiProperty({ type: [ResourceClassView] })
  items!: ResourceClassView[];

  @ApiProperty({ nullable: true, type: String })
  nextCursor!: string | null;
}

export class RegionView {
  @ApiProperty({ example: 'cn-east-1' })
  regionId!: string;

  @ApiProperty({ example: 'East China (Shanghai)' })
  name!: string;

  @ApiProperty({ format: 'date-time' })
  createdAt!: string;

  @ApiProperty({ format: 'date-time' })
  updatedAt!: string;
}

export class RegionPage {
  @ApiProperty({ type: [RegionView] })
  items!: RegionView[];

  @ApiProperty({ nullable: true, type: String })
  nextCursor!: string | null;
}

export class IssuerView {
  @ApiProperty({ nullable: true, type: String })
  keyId!: string | null;

  @ApiProperty({ nullable: true, type: String, example: 'regulator' })
  role!: string | null;
}

export class BandVersionView {
  @ApiProperty({ example: 'nvidia-h100-sxm-80g.cn-east-1' })
  bandId!: string;

  @ApiProperty({ description: 'What orders, trades and charges record.', example: 'nvidia-h100-sxm-80g.cn-east-1.v2' })
  versionId!: string;

  @ApiProperty({ example: 2 })
  version!: number;

  @ApiProperty({ enum: ['issued', 'amended', 'withdrawn'] })
  kind!: string;

  @ApiProperty({ example: 'nvidia-h100-sxm-80g' })
  resourceClass!: string;

  @ApiProperty({ nullable: true, type: String, example: 'cn-east-1' })
  region!: string | null;

  @ApiProperty({ enum: currencies })
  currency!: string;

  @ApiProperty({ example: '12.50' })
  floorPerAcceleratorHour!: string;

  @ApiProperty({ nullable: true, type: String })
  floorPerThousandTokens!: string | null;

  @ApiProperty({ nullable: true, type: String })
  ceilingPerAcceleratorHour!: string | null;

  @ApiProperty({ nullable: true, type: String })
  referencePrice!: string | null;

  @ApiProperty({ format: 'date-time' })
  effectiveFrom!: string;

  @ApiProperty({
    nullable: true,
    type: String,
    format: 'date-time',
    description: 'Exclusive. For a withdrawal: when the band ends.',
  })
  effectiveTo!: string | null;

  @ApiProperty()
  reason!: string;

  @ApiProperty()
  documentRef!: string;

  @ApiProperty({ type: IssuerView })
  issuedBy!: IssuerView;

  @ApiProperty({ format: 'date-time', description: 'By the business clock.' })
  issuedAt!: string;

  @ApiProperty({ nullable: true, type: String, format: 'date-time', description: 'When the store recorded it.' })
  recordedAt!: string | null;

  @ApiProperty({ nullable: true, type: String })
  previousVersionId!: string | null;
}

export class BandVersionPage {
  @ApiProperty({ type: [BandVersionView] })
  items!: BandVersionView[];

  @ApiProperty({ nullable: true, type: String })
  nextCursor!: string | null;
}

export class GuidanceAtView {
  @ApiProperty({ example: 'nvidia-h100-sxm-80g' })
  resourceClass!: string;

  @ApiProperty({ nullable: true, type: String })
  region!: string | null;

  @ApiProperty({ format: 'date-time' })
  at!: string;

  @ApiProperty({ nullable: true, type: String, description: 'null: no band in force, so no floor.' })
  guidanceVersion!: string | null;

  @ApiProperty({ nullable: true, type: BandVersionView })
  band!: BandVersionView | null;
}
