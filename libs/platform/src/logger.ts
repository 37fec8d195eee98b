import type { LoggerService } from '@nestjs/common';
import pino, { type DestinationStream, type Logger } from 'pino';
import { currentCorrelation } from '@cx/messaging';

// Structured JSON logs on stdout (pino). Nest's own log lines go through the same logger. A line written while a
// request or a delivered message is handled carries its `correlationId` and `causationId`, so one grep follows a
// request from the HTTP edge through every consumer it set off, in every process.

export const correlationFields = (): { correlationId?: string; causationId?: string } => {
  const c = currentCorrelation();
  return c === undefined ? {} : { correlationId: c.correlationId, causationId: c.causationId };
};

export const createLogger = (level: string, name = 'cx', destination?: DestinationStream): Logger =>
  pino(
    { name, level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime, mixin: correlationFields },
    destination,
  );

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

/**
 * Graceful shutdown on SIGTERM/SIGINT, once: stop taking requests and close the app (modules finish, the store is
 * closed last by CoreModule), then `after` (a host's own resources: a Kafka feed, the bus), exit 0; exit 1 if any
 * step fails. Returns whether a shutdown has begun, for hosts whose background work must not report it as a fault.
 */
export const exitOnSignals = (
  app: { close(): Promise<void> },
  logger: Logger,
  after: () => Promise<unknown> = async () => undefined,
): (() => boolean) => {
  let stopping = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    app
      .close()
      .then(after)
      .then(() => {
        logger.info('stopped');
        logger.flush();
        process.exit(0);
      })
      .catch((e: unknown) => {
        logger.error({ err: e }, 'shutdown failed');
        logger.flush();
        process.exit(1);
      });
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
  return () => stopping;
};
