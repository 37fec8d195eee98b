import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString } from 'class-validator';

/** `?limit=&cursor=` of every list (parsed and checked by parsePageRequest in the shared kernel). */
export class PageQueryDto {
  @ApiPropertyOptional({ description: 'Page size, 1 to 500.', example: '50' })
  @IsOptional()
  @IsString()
  limit?: string;

  @ApiPropertyOptional({ description: 'The nextCursor of the previous page.' })
  @IsOptional()
  @IsString()
  cursor?: string;
}
