import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsIn,
  IsObject,
  IsOptional,
  IsString,
  MaxLength,
  ValidateNested,
} from 'class-validator';
import { currencies } from '@cx/shared-kernel';
import { accountKinds } from '../domain/account/account.events';
import { keyRoles } from '../domain/api-key/api-key.events';
import { MAX_ACCOUNTS_PER_KEY } from '../domain/api-key/api-key.decider';

// Request and response shapes. The DTOs check types and enums (and document them in OpenAPI); the deciders
// check meaning (a real timezone, a plain decimal, an existing account), because the CLI sends no DTOs.

export class OrderLimitsDto {
  @ApiPropertyOptional({
    description: 'Most lots resting at once, a whole number as a decimal string; null removes the limit.',
    example: '1000',
    nullable: true,
    type: String,
  })
  @IsOptional()
  @IsString()
  maxOpenQuantityLots?: string | null;

  @ApiPropertyOptional({
    description: 'Most notional resting at once, in the account currency; null removes the limit.',
    example: '5000000.00',
    nullable: true,
    type: String,
  })
  @IsOptional()
  @IsString()
  maxOpenNotional?: string | null;
}

export class OpenAccountDto {
  @ApiPropertyOptional({
    description: 'Client-chosen account id (A-Z a-z 0-9 _ . : -); generated when absent.',
    example: 'acme-gpu-01',
  })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  accountId?: string;

  @ApiProperty({ description: 'Legal name of the participant.', example: 'Acme Compute Co., Ltd.' })
  @IsString()
  @MaxLength(200)
  legalName!: string;

  @ApiProperty({ enum: accountKinds, example: 'provider' })
  @IsIn(accountKinds)
  kind!: string;

  @ApiPropertyOptional({ enum: currencies, default: 'CNY' })
  @IsOptional()
  @IsIn(currencies)
  currency?: string;

  @ApiPropertyOptional({
    description: 'IANA timezone used to present times; periods stay UTC.',
    default: 'UTC',
    example: 'Asia/Shanghai',
  })
  @IsOptional()
  @IsString()
  timezone?: string;

  @ApiPropertyOptional({
    description: 'Credit line in the account currency, a plain decimal string.',
    default: '0',
    example: '100000.00',
  })
  @IsOptional()
  @IsString()
  creditLine?: string;

  @ApiPropertyOptional({ type: OrderLimitsDto })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => OrderLimitsDto)
  orderLimits?: OrderLimitsDto;

  @ApiPropertyOptional({ description: 'Fee tier id.', default: 'standard', example: 'standard' })
  @IsOptional()
  @IsString()
  feeTier?: string;
}

/** Only the fields given change. The currency is fixed at opening: balances and limits are denominated in it. */
export class AmendAccountDto {
  @ApiPropertyOptional({ example: 'Acme Compute Co., Ltd.' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  legalName?: string;

  @ApiPropertyOptional({ enum: accountKinds })
  @IsOptional()
  @IsIn(accountKinds)
  kind?: string;

  @ApiPropertyOptional({ example: 'Asia/Shanghai' })
  @IsOptional()
  @IsString()
  timezone?: string;

  @ApiPropertyOptional({ example: '250000.00' })
  @IsOptional()
  @IsString()
  creditLine?: string;

  @ApiPropertyOptional({ type: OrderLimitsDto })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => OrderLimitsDto)
  orderLimits?: OrderLimitsDto;

  @ApiPropertyOptional({ example: 'maker-1' })
  @IsOptional()
  @IsString()
  feeTier?: string;
}

export class IssueKeyDto {
  @ApiProperty({ enum: keyRoles, example: 'trader' })
  @IsIn(keyRoles)
  role!: string;

  @ApiPropertyOptional({
    description: 'Accounts the key acts for: required for trader, integrator and finance; none for the others.',
    type: [String],
    example: ['acme-gpu-01'],
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MAX_ACCOUNTS_PER_KEY)
  @IsString({ each: true })
  accounts?: string[];

  @ApiPropertyOptional({
    description: 'When the key stops working (ISO 8601 with offset); never when absent.',
    example: '2027-01-01T00:00:00Z',
    nullable: true,
    type: String,
  })
  @IsOptional()
  @IsString()
  expiresAt?: string | null;

  @ApiPropertyOptional({ description: 'A note for people: who or what uses the key.', example: 'order router, prod' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  label?: string;
}

export class RevokeKeyDto {
  @ApiPropertyOptional({ description: 'Why the key is revoked, kept in the audit trail.', example: 'laptop lost' })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  reason?: string;
}

export class OrderLimitsView {
  @ApiProperty({ nullable: true, type: String, example: '1000' })
  maxOpenQuantityLots!: string | null;

  @ApiProperty({ nullable: true, type: String, example: '5000000.00' })
  maxOpenNotional!: string | null;
}

export class AccountView {
  @ApiProperty({ example: 'acme-gpu-01' })
  accountId!: string;

  @ApiProperty({ example: 'Acme Compute Co., Ltd.' })
  legalName!: string;

  @ApiProperty({ enum: accountKinds })
  kind!: string;

  @ApiProperty({ enum: currencies })
  currency!: string;

  @ApiProperty({ example: 'Asia/Shanghai' })
  timezone!: string;

  @ApiProperty({ example: '100000.00' })
  creditLine!: string;

  @ApiProperty({ type: OrderLimitsView })
  orderLimits!: OrderLimitsView;

  @ApiProperty({ example: 'standard' })
  feeTier!: string;

  @ApiProperty({ format: 'date-time' })
  openedAt!: string;

  @ApiProperty({ format: 'date-time' })
  updatedAt!: string;
}

export class AccountPage {
  @ApiProperty({ type: [AccountView] })
  items!: AccountView[];

  @ApiProperty({ nullable: true, type: String })
  nextCursor!: string | null;
}

export class ApiKeyView {
  @ApiProperty({ example: '0195f3d2-6c1e-7a4b-9d2f-3b8e1c0a4f21' })
  keyId!: string;

  @ApiProperty({ enum: keyRoles })
  role!: string;

  @ApiProperty({ type: [String] })
  accounts!: string[];

  @ApiProperty()
  label!: string;

  @ApiProperty({ nullable: true, type: String, format: 'date-time' })
  expiresAt!: string | null;

  @ApiProperty({ format: 'date-time' })
  issuedAt!: string;

  @ApiProperty({ nullable: true, type: String, format: 'date-time' })
  revokedAt!: string | null;

  @ApiProperty({ nullable: true, type: String })
  revokeReason!: string | null;

  @ApiProperty({ enum: ['active', 'revoked', 'expired'] })
  status!: 'active' | 'revoked' | 'expired';
}

export class IssuedKeyView extends ApiKeyView {
  @ApiProperty({
    description: 'The key, shown this once: only a hash of its secret is stored.',
    example: 'cx_0195f3d2-6c1e-7a4b-9d2f-3b8e1c0a4f21_…',
  })
  key!: string;
}

export class ApiKeyPage {
  @ApiProperty({ type: [ApiKeyView] })
  items!: ApiKeyView[];

  @ApiProperty({ nullable: true, type: String })
  nextCursor!: string | null;
}

export class MeView {
  @ApiProperty()
  keyId!: string;

  @ApiProperty({ enum: keyRoles })
  role!: string;

  @ApiProperty({ type: [String] })
  accounts!: string[];

  @ApiProperty({ nullable: true, type: String, format: 'date-time' })
  expiresAt!: string | null;
}
