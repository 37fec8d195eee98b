import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsObject, IsOptional, IsString, MaxLength } from 'class-validator';
import { PageQueryDto } from '@cx/platform';
import { currencies } from '@cx/shared-kernel';
import { MAX_REASON_LENGTH } from '../domain/offer/offer.decider';
import { ratableMeters } from '../domain/rating/meter-units';
import { priceModels } from '../domain/rating/rate-card';

// Request and response shapes. The DTOs check types (and document them in OpenAPI); the offer decider checks
// meaning, the rate card included, and answers BILLING.* codes naming the field at fault.

const RATE_CARD_DOC =
  `One of the models ${priceModels.join(', ')}; decimal strings throughout. ` +
  'flat: {model, unitPrice}. package: {model, packageSize, packagePrice, freeUnits?} (a started package is a whole ' +
  'one). graduated / volume: {model, tiers: [{upTo, unitPrice, flatFee?}]}, upTo an inclusive bound in the ' +
  'offer’s unit, null on the last tier. Prices are per unit of the meter’s unit: per accelerator-hour for ' +
  'accelerator_seconds, per 1,000 tokens for token meters. Every unit price must be at or above the floor in force.';

export class ListOfferDto {
  @ApiPropertyOptional({
    example: 'off-h100-east-2026-03',
    description: 'The client’s id for the offer: the same id and terms again answer 200 with the offer.',
  })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  offerId?: string;

  @ApiProperty({ example: 'prov-01', description: 'A provider account the key acts for.' })
  @IsString()
  @MaxLength(64)
  providerAccount!: string;

  @ApiProperty({ example: 'nvidia-h100-sxm-80g' })
  @IsString()
  @MaxLength(64)
  resourceClass!: string;

  @ApiPropertyOptional({ example: 'cn-east-1', description: 'Absent: the national band applies.' })
  @IsOptional()
  @IsString()
  @MaxLength(32)
  region?: string;

  @ApiProperty({ enum: Object.keys(ratableMeters), example: 'accelerator_seconds' })
  @IsString()
  @MaxLength(63)
  meter!: string;

  @ApiProperty({ enum: currencies, example: 'CNY' })
  @IsString()
  @IsIn(currencies)
  currency!: string;

  @ApiProperty({
    description: RATE_CARD_DOC,
    example: {
      model: 'graduated',
      tiers: [
        { upTo: '100', unitPrice: '14.00' },
        { upTo: null, unitPrice: '12.50', flatFee: '0' },
      ],
    },
  })
  @IsObject()
  rateCard!: Record<string, unknown>;
}

export class WithdrawOfferDto {
  @ApiPropertyOptional({ example: 'capacity sold elsewhere' })
  @IsOptional()
  @IsString()
  @MaxLength(MAX_REASON_LENGTH)
  reason?: string;
}

export class OffersQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ description: 'Only this provider account’s offers.' })
  @IsOptional()
  @IsString()
  provider?: string;

  @ApiPropertyOptional({ example: 'nvidia-h100-sxm-80g' })
  @IsOptional()
  @IsString()
  resourceClass?: string;

  @ApiPropertyOptional({ enum: ['active', 'withdrawn'] })
  @IsOptional()
  @IsIn(['active', 'withdrawn'])
  status?: 'active' | 'withdrawn';
}

export class OfferView {
  @ApiProperty() offerId!: string;
  @ApiProperty() providerAccount!: string;
  @ApiProperty() resourceClass!: string;
  @ApiProperty({ nullable: true, type: String }) region!: string | null;
  @ApiProperty({ example: 'accelerator_seconds' }) meter!: string;
  @ApiProperty({ enum: ['accelerator-hour', 'thousand-tokens'] }) unit!: string;
  @ApiProperty({ enum: currencies }) currency!: string;
  @ApiProperty({ description: 'The card in canonical form (plain decimals, defaults explicit).' })
  rateCard!: Record<string, unknown>;
  @ApiProperty({ enum: ['active', 'withdrawn'] }) status!: string;
  @ApiProperty() listedAt!: string;
  @ApiProperty({ nullable: true, type: String }) withdrawnAt!: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'The floor for the unit checked at listing.' })
  floorPerUnit!: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'The band version in force at listing.' })
  guidanceVersion!: string | null;
}

export class OfferPage {
  @ApiProperty({ type: [OfferView] }) items!: OfferView[];
  @ApiProperty({ nullable: true, type: String }) nextCursor!: string | null;
}
