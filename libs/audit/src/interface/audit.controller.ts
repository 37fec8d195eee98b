import { Controller, Get, Inject } from '@nestjs/common';
import { ApiOkResponse, ApiProperty, ApiTags } from '@nestjs/swagger';
import { Public } from '@cx/auth';
import type { SigningKey } from '../signing-key';

export const AUDIT_SIGNING_KEY = 'cx.AuditSigningKey';

export class AuditPublicKeyDto {
  @ApiProperty({ description: 'Id of the key that signs audit checkpoints (first 16 hex of sha256 of its SPKI).' })
  keyId!: string;

  @ApiProperty({ description: 'The Ed25519 public key, SPKI PEM: give it to `cx audit verify --public-key`.' })
  publicKeyPem!: string;

  @ApiProperty({ example: 'Ed25519' })
  algorithm!: 'Ed25519';
}

/** The key auditors verify checkpoint signatures with. Public: it proves, it grants nothing. */
@ApiTags('audit')
@Controller('v1/audit')
export class AuditController {
  constructor(@Inject(AUDIT_SIGNING_KEY) private readonly key: SigningKey) {}

  @Public()
  @Get('public-key')
  @ApiOkResponse({ type: AuditPublicKeyDto })
  publicKey(): AuditPublicKeyDto {
    return { keyId: this.key.keyId, publicKeyPem: this.key.publicKeyPem, algorithm: 'Ed25519' };
  }
}
