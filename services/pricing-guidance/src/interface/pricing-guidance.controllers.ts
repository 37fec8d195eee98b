import { Body, Controller, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
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
import { Roles } from '@cx/auth';
import type { CommandMetadata } from '../application/ports';
import { CommandMeta } from '@cx/auth';
import {
  AmendBandDto,
  AmendRegionDto,
  AmendResourceClassDto,
  BandVersionPage,
  BandVersionView,
  CreateRegionDto,
  CreateResourceClassDto,
  GuidanceAtQueryDto,
  GuidanceAtView,
  IssueBandDto,
  RegionPage,
  RegionView,
  ResourceClassPage,
  ResourceClassView,
  WithdrawBandDto,
} from './pricing-guidance.dto';
import { PageQueryDto } from '@cx/platform';
import { PricingGuidanceService } from './pricing-guidance.service';

// Everyone authenticated reads the catalog and the bands; admin writes the catalog; only the regulator issues,
// amends and withdraws bands (DESIGN.md, "Roles and tenancy").

const UNAUTHENTICATED = 'AUTH.UNAUTHENTICATED, AUTH.KEY_EXPIRED or AUTH.KEY_REVOKED';

@ApiTags('catalog')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ description: UNAUTHENTICATED })
@Controller('v1/resource-classes')
export class ResourceClassesController {
  constructor(private readonly guidance: PricingGuidanceService) {}

  @Get()
  @ApiOperation({ summary: 'The resource classes, by id.' })
  @ApiOkResponse({ type: ResourceClassPage })
  list(@Query() query: PageQueryDto): ResourceClassPage {
    return this.guidance.listResourceClasses(query);
  }

  @Get(':id')
  @ApiOperation({ summary: 'One resource class.' })
  @ApiOkResponse({ type: ResourceClassView })
  @ApiNotFoundResponse({ description: 'PRICING.RESOURCE_CLASS_NOT_FOUND' })
  get(@Param('id') id: string): ResourceClassView {
    return this.guidance.getResourceClass(id);
  }

  @Post()
  @Roles('admin')
  @ApiOperation({ summary: 'Add a resource class to the catalog (admin).' })
  @ApiCreatedResponse({ type: ResourceClassView })
  @ApiConflictResponse({ description: 'PRICING.RESOURCE_CLASS_EXISTS' })
  @ApiForbiddenResponse({ description: 'AUTH.FORBIDDEN' })
  create(@Body() body: CreateResourceClassDto, @CommandMeta() meta: CommandMetadata): Promise<ResourceClassView> {
    return this.guidance.createResourceClass(body, meta);
  }

  @Patch(':id')
  @Roles('admin')
  @ApiOperation({ summary: 'Amend a resource class (admin). Only the fields given change; the id never does.' })
  @ApiOkResponse({ type: ResourceClassView })
  @ApiNotFoundResponse({ description: 'PRICING.RESOURCE_CLASS_NOT_FOUND' })
  @ApiForbiddenResponse({ description: 'AUTH.FORBIDDEN' })
  amend(
    @Param('id') id: string,
    @Body() body: AmendResourceClassDto,
    @CommandMeta() meta: CommandMetadata,
  ): Promise<ResourceClassView> {
    return this.guidance.amendResourceClass(id, body, meta);
  }
}

@ApiTags('catalog')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ description: UNAUTHENTICATED })
@Controller('v1/regions')
export class RegionsController {
  constructor(private readonly guidance: PricingGuidanceService) {}

  @Get()
  @ApiOperation({ summary: 'The delivery regions, by id.' })
  @ApiOkResponse({ type: RegionPage })
  list(@Query() query: PageQueryDto): RegionPage {
    return this.guidance.listRegions(query);
  }

  @Get(':id')
  @ApiOperation({ summary: 'One region.' })
  @ApiOkResponse({ type: RegionView })
  @ApiNotFoundResponse({ description: 'PRICING.REGION_NOT_FOUND' })
  get(@Param('id') id: string): RegionView {
    return this.guidance.getRegion(id);
  }

  @Post()
  @Roles('admin')
  @ApiOperation({ summary: 'Add a region (admin).' })
  @ApiCreatedResponse({ type: RegionView })
  @ApiConflictResponse({ description: 'PRICING.REGION_EXISTS' })
  @ApiForbiddenResponse({ description: 'AUTH.FORBIDDEN' })
  create(@Body() body: CreateRegionDto, @CommandMeta() meta: CommandMetadata): Promise<RegionView> {
    return this.guidance.createRegion(body, meta);
  }

  @Patch(':id')
  @Roles('admin')
  @ApiOperation({ summary: 'Rename a region (admin).' })
  @ApiOkResponse({ type: RegionView })
  @ApiNotFoundResponse({ description: 'PRICING.REGION_NOT_FOUND' })
  @ApiForbiddenResponse({ description: 'AUTH.FORBIDDEN' })
  amend(
    @Param('id') id: string,
    @Body() body: AmendRegionDto,
    @CommandMeta() meta: CommandMetadata,
  ): Promise<RegionView> {
    return this.guidance.amendRegion(id, body, meta);
  }
}

@ApiTags('guidance')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ description: UNAUTHENTICATED })
@Controller('v1/guidance')
export class GuidanceController {
  constructor(private readonly guidance: PricingGuidanceService) {}

  @Post()
  @Roles('regulator')
  @ApiOperation({
    summary: 'Issue a price band (regulator): version 1 of the band for a resource class, nationally or in one region.',
  })
  @ApiCreatedResponse({ type: BandVersionView })
  @ApiUnprocessableEntityResponse({
    description: 'PRICING.UNKNOWN_RESOURCE_CLASS, PRICING.UNKNOWN_REGION, PRICING.UNIT_NOT_OFFERED',
  })
  @ApiConflictResponse({ description: 'PRICING.BAND_EXISTS' })
  @ApiForbiddenResponse({ description: 'AUTH.FORBIDDEN' })
  issue(@Body() body: IssueBandDto, @CommandMeta() meta: CommandMetadata): Promise<BandVersionView> {
    return this.guidance.issueBand(body, meta);
  }

  @Post(':id/amend')
  @Roles('regulator')
  @HttpCode(200)
  @ApiOperation({ summary: 'Amend a band (regulator): a new version, in force from its own effectiveFrom.' })
  @ApiOkResponse({ type: BandVersionView })
  @ApiNotFoundResponse({ description: 'PRICING.BAND_NOT_FOUND' })
  @ApiConflictResponse({ description: 'PRICING.BAND_WITHDRAWN' })
  @ApiForbiddenResponse({ description: 'AUTH.FORBIDDEN' })
  amend(
    @Param('id') id: string,
    @Body() body: AmendBandDto,
    @CommandMeta() meta: CommandMetadata,
  ): Promise<BandVersionView> {
    return this.guidance.amendBand(id, body, meta);
  }

  @Post(':id/withdraw')
  @Roles('regulator')
  @HttpCode(200)
  @ApiOperation({ summary: 'Withdraw a band (regulator): a new version that ends the band at effectiveAt.' })
  @ApiOkResponse({ type: BandVersionView })
  @ApiNotFoundResponse({ description: 'PRICING.BAND_NOT_FOUND' })
  @ApiConflictResponse({ description: 'PRICING.BAND_WITHDRAWN' })
  @ApiForbiddenResponse({ description: 'AUTH.FORBIDDEN' })
  withdraw(
    @Param('id') id: string,
    @Body() body: WithdrawBandDto,
    @CommandMeta() meta: CommandMetadata,
  ): Promise<BandVersionView> {
    return this.guidance.withdrawBand(id, body, meta);
  }

  @Get(':resourceClass')
  @ApiOperation({
    summary: 'The band in force for a resource class at an instant (now by default); guidanceVersion null: no floor.',
  })
  @ApiOkResponse({ type: GuidanceAtView })
  @ApiNotFoundResponse({ description: 'PRICING.RESOURCE_CLASS_NOT_FOUND' })
  @ApiUnprocessableEntityResponse({ description: 'PRICING.UNKNOWN_REGION' })
  at(@Param('resourceClass') resourceClass: string, @Query() query: GuidanceAtQueryDto): GuidanceAtView {
    return this.guidance.bandAt(resourceClass, query);
  }

  @Get(':resourceClass/history')
  @ApiOperation({ summary: 'Every version of the class’s bands, national and regional, with who issued it and when.' })
  @ApiOkResponse({ type: BandVersionPage })
  @ApiNotFoundResponse({ description: 'PRICING.RESOURCE_CLASS_NOT_FOUND' })
  history(@Param('resourceClass') resourceClass: string, @Query() query: PageQueryDto): BandVersionPage {
    return this.guidance.history(resourceClass, query);
  }
}
