import { Body, Controller, Get, Header, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnauthorizedResponse,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import { CurrentPrincipal, type Principal, Roles } from '@cx/auth';
import type { CommandMetadata } from '../application/ports';
import { CommandMeta } from '@cx/auth';
import {
  AccountPage,
  AccountView,
  AmendAccountDto,
  ApiKeyPage,
  ApiKeyView,
  IssuedKeyView,
  IssueKeyDto,
  MeView,
  OpenAccountDto,
  RevokeKeyDto,
} from './identity.dto';
import { PageQueryDto } from '@cx/platform';
import { IdentityService } from './identity.service';

@ApiTags('identity')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ description: 'AUTH.UNAUTHENTICATED, AUTH.KEY_EXPIRED or AUTH.KEY_REVOKED' })
@Controller('v1/me')
export class MeController {
  constructor(private readonly identity: IdentityService) {}

  @Get()
  @ApiOperation({ summary: 'The calling key: its role, the accounts it acts for and when it expires.' })
  @ApiOkResponse({ type: MeView })
  me(@CurrentPrincipal() principal: Principal): MeView {
    return this.identity.me(principal);
  }
}

@ApiTags('identity')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ description: 'AUTH.UNAUTHENTICATED, AUTH.KEY_EXPIRED or AUTH.KEY_REVOKED' })
@Controller('v1/accounts')
export class AccountsController {
  constructor(private readonly identity: IdentityService) {}

  @Get()
  @ApiOperation({
    summary: 'Accounts the caller may see: all of them for admin, regulator and auditor; its own for the others.',
  })
  @ApiOkResponse({ type: AccountPage })
  list(@CurrentPrincipal() principal: Principal, @Query() query: PageQueryDto): AccountPage {
    return this.identity.listAccounts(principal, query);
  }

  @Get(':id')
  @ApiOperation({ summary: 'One account. Another tenant’s account answers 404, as if it did not exist.' })
  @ApiOkResponse({ type: AccountView })
  @ApiNotFoundResponse({ description: 'IDENTITY.ACCOUNT_NOT_FOUND' })
  get(@CurrentPrincipal() principal: Principal, @Param('id') id: string): AccountView {
    return this.identity.getAccount(principal, id);
  }

  @Post()
  @Roles('admin')
  @ApiOperation({ summary: 'Open an account (admin).' })
  @ApiCreatedResponse({ type: AccountView })
  @ApiConflictResponse({ description: 'IDENTITY.ACCOUNT_EXISTS' })
  @ApiForbiddenResponse({ description: 'AUTH.FORBIDDEN' })
  open(@Body() body: OpenAccountDto, @CommandMeta() meta: CommandMetadata): Promise<AccountView> {
    return this.identity.openAccount(body, meta);
  }

  @Patch(':id')
  @Roles('admin')
  @ApiOperation({ summary: 'Amend an account (admin). Only the fields given change; the currency never does.' })
  @ApiOkResponse({ type: AccountView })
  @ApiNotFoundResponse({ description: 'IDENTITY.ACCOUNT_NOT_FOUND' })
  @ApiForbiddenResponse({ description: 'AUTH.FORBIDDEN' })
  amend(
    @Param('id') id: string,
    @Body() body: AmendAccountDto,
    @CommandMeta() meta: CommandMetadata,
  ): Promise<AccountView> {
    return this.identity.amendAccount(id, body, meta);
  }
}

@ApiTags('identity')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ description: 'AUTH.UNAUTHENTICATED, AUTH.KEY_EXPIRED or AUTH.KEY_REVOKED' })
@ApiForbiddenResponse({ description: 'AUTH.FORBIDDEN' })
@Controller('v1/keys')
export class KeysController {
  constructor(private readonly identity: IdentityService) {}

  @Get()
  @Roles('admin', 'auditor')
  @ApiOperation({ summary: 'API keys (admin, auditor). Never the keys themselves: they are shown only when issued.' })
  @ApiOkResponse({ type: ApiKeyPage })
  list(@Query() query: PageQueryDto): ApiKeyPage {
    return this.identity.listKeys(query);
  }

  @Post()
  @Roles('admin')
  // The answer holds a secret: no cache anywhere may keep it.
  @Header('cache-control', 'no-store')
  @ApiOperation({ summary: 'Issue an API key (admin). The key string is in this answer and nowhere else, ever.' })
  @ApiCreatedResponse({ type: IssuedKeyView })
  @ApiUnprocessableEntityResponse({ description: 'IDENTITY.UNKNOWN_ACCOUNT' })
  issue(@Body() body: IssueKeyDto, @CommandMeta() meta: CommandMetadata): Promise<IssuedKeyView> {
    return this.identity.issueKey(body, meta);
  }

  @Post(':id/revoke')
  @Roles('admin')
  @HttpCode(200)
  @ApiOperation({ summary: 'Revoke an API key (admin). It stops working as soon as this answers.' })
  @ApiOkResponse({ type: ApiKeyView })
  @ApiNotFoundResponse({ description: 'IDENTITY.KEY_NOT_FOUND' })
  @ApiConflictResponse({ description: 'IDENTITY.KEY_ALREADY_REVOKED' })
  revoke(
    @Param('id') id: string,
    @Body() body: RevokeKeyDto,
    @CommandMeta() meta: CommandMetadata,
  ): Promise<ApiKeyView> {
    return this.identity.revokeKey(id, body?.reason, meta);
  }
}
