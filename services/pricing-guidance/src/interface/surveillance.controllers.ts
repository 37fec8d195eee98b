import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
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
import { CommandMeta, Roles } from '@cx/auth';
import type { CommandMetadata } from '../application/ports';
import {
  AlertPage,
  AlertQueryDto,
  HaltMarketDto,
  HaltView,
  IndexPage,
  IndexQueryDto,
  MarketStatusPage,
  MarketStatusQueryDto,
  ResumeMarketDto,
} from './surveillance.dto';
import { SurveillanceService } from './surveillance.service';

// Everyone authenticated reads the index and the market status; alerts are for the regulator and the auditor
// (issue 4, item 7); only the regulator halts and resumes by hand.

const UNAUTHENTICATED = 'AUTH.UNAUTHENTICATED, AUTH.KEY_EXPIRED or AUTH.KEY_REVOKED';

@ApiTags('guidance')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ description: UNAUTHENTICATED })
@Controller('v1/index')
export class IndexController {
  constructor(private readonly surveillance: SurveillanceService) {}

  @Get(':resourceClass')
  @ApiOperation({
    summary:
      'The reference index (VWAP of executed trades) of a resource class, nationally or in one region: daily values or the rolling intraday index.',
  })
  @ApiOkResponse({ type: IndexPage })
  @ApiNotFoundResponse({ description: 'PRICING.RESOURCE_CLASS_NOT_FOUND' })
  @ApiUnprocessableEntityResponse({ description: 'PRICING.UNKNOWN_REGION' })
  get(@Param('resourceClass') resourceClass: string, @Query() query: IndexQueryDto): IndexPage {
    return this.surveillance.index(resourceClass, query);
  }
}

@ApiTags('guidance')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ description: UNAUTHENTICATED })
@Controller('v1/alerts')
export class AlertsController {
  constructor(private readonly surveillance: SurveillanceService) {}

  @Get()
  @Roles('regulator', 'auditor')
  @ApiOperation({ summary: 'Market-surveillance alerts, in the order raised (regulator, auditor).' })
  @ApiOkResponse({ type: AlertPage })
  @ApiForbiddenResponse({ description: 'AUTH.FORBIDDEN' })
  list(@Query() query: AlertQueryDto): AlertPage {
    return this.surveillance.alerts(query);
  }
}

@ApiTags('guidance')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ description: UNAUTHENTICATED })
@Controller('v1/market-status')
export class MarketStatusController {
  constructor(private readonly surveillance: SurveillanceService) {}

  @Get()
  @ApiOperation({ summary: 'Halts in force (state=all: every halt), in the order recorded.' })
  @ApiOkResponse({ type: MarketStatusPage })
  list(@Query() query: MarketStatusQueryDto): MarketStatusPage {
    return this.surveillance.marketStatus(query);
  }

  @Get('halts/:id')
  @ApiOperation({ summary: 'One halt.' })
  @ApiOkResponse({ type: HaltView })
  @ApiNotFoundResponse({ description: 'PRICING.HALT_NOT_FOUND' })
  get(@Param('id') id: string): HaltView {
    return this.surveillance.getHalt(id);
  }

  @Post('halts')
  @Roles('regulator')
  @ApiOperation({ summary: 'Halt the market, a resource class, a region or an instrument (regulator).' })
  @ApiCreatedResponse({ type: HaltView })
  @ApiUnprocessableEntityResponse({
    description: 'PRICING.UNKNOWN_RESOURCE_CLASS, PRICING.UNKNOWN_REGION, PRICING.UNKNOWN_INSTRUMENT',
  })
  @ApiForbiddenResponse({ description: 'AUTH.FORBIDDEN' })
  halt(@Body() body: HaltMarketDto, @CommandMeta() meta: CommandMetadata): Promise<HaltView> {
    return this.surveillance.halt(body, meta);
  }

  @Post('halts/:id/resume')
  @Roles('regulator')
  @HttpCode(200)
  @ApiOperation({ summary: 'Resume a halt (regulator), before its cooling-off ends if need be.' })
  @ApiOkResponse({ type: HaltView })
  @ApiNotFoundResponse({ description: 'PRICING.HALT_NOT_FOUND' })
  @ApiConflictResponse({ description: 'PRICING.HALT_RESUMED' })
  @ApiForbiddenResponse({ description: 'AUTH.FORBIDDEN' })
  resume(
    @Param('id') id: string,
    @Body() body: ResumeMarketDto,
    @CommandMeta() meta: CommandMetadata,
  ): Promise<HaltView> {
    return this.surveillance.resume(id, body, meta);
  }
}
