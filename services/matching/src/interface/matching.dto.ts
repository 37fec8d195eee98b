import { PageQueryDto } from '@cx/platform';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { MAX_QUANTITY_LOTS } from '../domain/order-book/order-book.units';

// Request shapes. The DTOs check shape (types, enums, a plain decimal, whole lots) and answer 400 before
// anything is decided; what needs the instrument (tick size, the book, the clock, the band) is the core's to
// judge. Identifiers keep to the safe alphabet every cx id uses.

const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;
const DECIMAL = /^\d{1,12}(\.\d{1,12})?$/;

export class PlaceOrderDto {
  @ApiProperty({ description: 'The account the order is for (one the key acts for).', example: 'acme-01' })
  @IsString()
  @Matches(SAFE_ID)
  account!: string;

  @ApiProperty({ example: 'nvidia-h100-sxm-80g.cn-east-1.2026-03-11' })
  @IsString()
  @MaxLength(200)
  instrument!: string;

  @ApiProperty({ description: 'Unique per account: a retry with the same id answers the original order.' })
  @IsString()
  @Matches(SAFE_ID)
  clientOrderId!: string;

  @ApiProperty({ enum: ['buy', 'sell'] })
  @IsIn(['buy', 'sell'])
  side!: 'buy' | 'sell';

  @ApiProperty({ description: 'Limit price per accelerator-hour, a plain decimal string.', example: '18.50' })
  @IsString()
  @Matches(DECIMAL, { message: 'price must be a plain decimal string' })
  price!: string;

  @ApiProperty({ description: 'Whole lots.', example: 10 })
  @IsInt()
  @Min(1)
  @Max(MAX_QUANTITY_LOTS)
  quantityLots!: number;

  @ApiProperty({ enum: ['GTC', 'GTD', 'IOC', 'FOK'] })
  @IsIn(['GTC', 'GTD', 'IOC', 'FOK'])
  timeInForce!: 'GTC' | 'GTD' | 'IOC' | 'FOK';

  @ApiPropertyOptional({ description: 'GTD only: a UTC instant.', example: '2026-03-10T18:00:00Z' })
  @IsOptional()
  @IsString()
  expiresAt?: string;

  @ApiPropertyOptional({ description: 'Cancel rather than take liquidity.' })
  @IsOptional()
  @IsBoolean()
  postOnly?: boolean;
}

export class AmendOrderDto {
  @ApiPropertyOptional({ description: 'Reduce: the new total quantity (filled lots included), lower than now.' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_QUANTITY_LOTS)
  quantityLots?: number;

  @ApiPropertyOptional({ description: 'Reprice: the new limit price; the order loses its time priority.' })
  @IsOptional()
  @IsString()
  @Matches(DECIMAL, { message: 'price must be a plain decimal string' })
  price?: string;
}

export class OrdersQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ description: 'One account; all the caller may read when absent.' })
  @IsOptional()
  @IsString()
  account?: string;

  @ApiPropertyOptional({ enum: ['open', 'partially_filled', 'filled', 'cancelled', 'expired', 'rejected'] })
  @IsOptional()
  @IsIn(['open', 'partially_filled', 'filled', 'cancelled', 'expired', 'rejected'])
  status?: string;
}

export class CancelAllQueryDto {
  @ApiProperty({ description: 'The account whose resting orders are all cancelled.' })
  @IsString()
  account!: string;
}

export class AccountQueryDto extends PageQueryDto {
  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  account?: string;
}

export class DepthQueryDto {
  @ApiPropertyOptional({ description: 'Price levels per side, 1 to 500 (default 20).' })
  @IsOptional()
  @Matches(/^\d{1,3}$/)
  levels?: string;
}

export class QuoteQueryDto {
  @ApiProperty({ enum: ['buy', 'sell'], description: 'The side you would take: buy lifts asks, sell hits bids.' })
  @IsIn(['buy', 'sell'])
  side!: 'buy' | 'sell';

  @ApiProperty({ description: 'Whole lots.', example: '10' })
  @Matches(/^[1-9]\d{0,6}$/, { message: 'quantity must be a positive whole number of lots' })
  quantity!: string;
}
