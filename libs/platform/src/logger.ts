import type { LoggerService } from '@nestjs/common';
import pino, { type Logger } from 'pino';

// Structured JSON logs on stdout (pino). Nest's own log lines go through the same logger.

export const createLogger = (level: string, name = 'cx'): Logger =>
  pino({ name, level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime });

export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}
  log(message: unknown, context?: string): void {
    this.logger.info({ context }, String(message));
  }
  error(message: unknown, trace?: string, context?: string): void {
    this.logger.error({ context, trace }, String(message));
  }
  warn(message: unknown, context?: string): void {
    this.logger.warn({ context }, String(message));
  }
  debug(message: unknown, context?: string): void {
    this.logger.debug({ context }, String(message));
  }
  verbose(message: unknown, context?: string): void {
    this.logger.trace({ context }, String(message));
  }
}
