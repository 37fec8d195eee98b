import { Body, Controller, HttpCode, Inject, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsISO8601, IsInt, IsOptional, Max, Min } from 'class-validator';
import { Roles } from '@cx/auth';
import { CLOCK, type Clock, DomainError, isSimulatedClock } from '@cx/shared-kernel';

export class AdvanceClockDto {
  @ApiPropertyOptional({
    description: 'Move the clock to this instant (ISO 8601). Never backwards.',
    example: '2026-03-10T08:00:00Z',
  })
  @IsOptional()
  @IsISO8601({ strict: true })
  to?: string;

  @ApiPropertyOptional({ description: 'Move the clock forward by this many milliseconds.', example: 60000 })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(366 * 24 * 3600 * 1000)
  advanceMs?: number;
}

export class ClockDto {
  @ApiProperty({ example: '2026-03-10T08:00:00.000Z' })
  now!: string;
}

/** Registered only with CX_CLOCK=simulated: otherwise the route does not exist at all. */
@ApiTags('simulation')
@ApiBearerAuth()
@Controller('v1/sim/clock')
export class SimClockController {
  constructor(@Inject(CLOCK) private readonly clock: Clock) {}

  @Post()
  @HttpCode(200)
  @Roles('admin')
  advance(@Body() body: AdvanceClockDto): ClockDto {
    if (!isSimulatedClock(this.clock))
      throw new DomainError('SIM.NOT_SIMULATED', 'the clock is not simulated', 'conflict');
    if ((body.to === undefined) === (body.advanceMs === undefined)) {
      throw DomainError.invalid(
        'SIM.ONE_OF_TO_OR_ADVANCE',
        'give exactly one of "to" or "advanceMs"',
        body.to === undefined ? 'to' : 'advanceMs',
      );
    }
    const now =
      body.to !== undefined ? this.clock.set(new Date(body.to)) : this.clock.advance(body.advanceMs as number);
    return { now: now.toISOString() };
  }
}
