import { ApiProperty } from '@nestjs/swagger';
import { IsIn, IsString, Matches, MaxLength } from 'class-validator';
import { currencies } from '@cx/shared-kernel';
import { participantAccountKinds, type ParticipantAccountKind } from '../domain/ledger/ledger.events';

// Request and response shapes. The DTOs check types (and document them in OpenAPI); the ledger checks meaning
// and answers BILLING.* codes.

export class TransferDto {
  @ApiProperty({
    example: 'dep-2026-03-10-0001',
    description: "The client's idempotent id: the same id and body again answers 200 `exists`.",
  })
  @IsString()
  @MaxLength(128)
  transferId!: string;

  @ApiProperty({ example: 'acme-01' })
  @IsString()
  @MaxLength(64)
  account!: string;

  @ApiProperty({ example: '1000.00', description: 'Decimal string, at most the currency’s minor digits.' })
  @IsString()
  @Matches(/^\d{1,30}(\.\d{1,30})?$/, { message: 'amount must be a plain decimal string' })
  amount!: string;

  @ApiProperty({ enum: currencies, example: 'CNY' })
  @IsString()
  @IsIn(currencies)
  currency!: string;
}

export class TransferView {
  @ApiProperty() transferId!: string;
  @ApiProperty() account!: string;
  @ApiProperty({ example: '1000.00' }) amount!: string;
  @ApiProperty({ enum: currencies }) currency!: string;
  @ApiProperty({ enum: ['ok', 'exists'] }) result!: 'ok' | 'exists';
}

export class KindBalanceView {
  @ApiProperty({ example: '960.00', description: 'credits − debits posted' }) posted!: string;
  @ApiProperty({ example: '-40.00', description: 'credits − debits pending (open holds)' }) pending!: string;
}

export class KindBalancesView implements Record<ParticipantAccountKind, KindBalanceView> {
  @ApiProperty({ type: KindBalanceView }) cash!: KindBalanceView;
  @ApiProperty({ type: KindBalanceView }) payable!: KindBalanceView;
  @ApiProperty({ type: KindBalanceView }) receivable!: KindBalanceView;
  @ApiProperty({ type: KindBalanceView }) held!: KindBalanceView;
}

export class AccountLedgerView {
  @ApiProperty() account!: string;
  @ApiProperty({ enum: currencies }) currency!: string;
  @ApiProperty({ example: '0.00' }) creditLine!: string;
  @ApiProperty({ example: '920.00', description: 'cash posted − open holds + credit line' }) available!: string;
  @ApiProperty({ type: KindBalancesView, description: `One entry per kind: ${participantAccountKinds.join(', ')}` })
  balances!: KindBalancesView;
}
