import {
  ArgumentsHost,
  Catch,
  ExceptionFilter,
  HttpException,
  HttpStatus,
  Logger,
  ValidationError,
} from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { DomainError, type ErrorDetail, type ErrorKind } from '@cx/shared-kernel';
import { EventStoreError, InvalidAppend, WrongExpectedVersion } from '@cx/event-store';

// The one place where refusals become HTTP responses: `{ code, message, details }` with a stable code.

const STATUS_BY_KIND: Readonly<Record<ErrorKind, number>> = {
  invalid: HttpStatus.BAD_REQUEST,
  unauthenticated: HttpStatus.UNAUTHORIZED,
  forbidden: HttpStatus.FORBIDDEN,
  not_found: HttpStatus.NOT_FOUND,
  conflict: HttpStatus.CONFLICT,
  unprocessable: HttpStatus.UNPROCESSABLE_ENTITY,
  rate_limited: HttpStatus.TOO_MANY_REQUESTS,
};

export interface ErrorBody {
  code: string;
  message: string;
  details: ErrorDetail[];
}

/** Flattens class-validator's tree into `field.path` details, each with the failed constraint as code. */
export const validationDetails = (errors: ValidationError[], parent = ''): ErrorDetail[] =>
  errors.flatMap((e) => {
    const field = parent ? `${parent}.${e.property}` : e.property;
    const own = Object.entries(e.constraints ?? {}).map(([code, message]) => ({ field, code, message }));
    return [...own, ...validationDetails(e.children ?? [], field)];
  });

export const validationError = (errors: ValidationError[]): DomainError =>
  new DomainError('VALIDATION.INVALID', 'the request is not valid', 'invalid', validationDetails(errors));

// Errors raised before a handler runs (routing, body parsing, size limits, content types). Nest's Fastify adapter
// hands them over as HttpExceptions, so they are told apart by status.
const HTTP_CODES: Readonly<Record<number, string>> = {
  400: 'HTTP.MALFORMED_BODY',
  404: 'HTTP.NOT_FOUND',
  405: 'HTTP.METHOD_NOT_ALLOWED',
  406: 'HTTP.NOT_ACCEPTABLE',
  413: 'HTTP.BODY_TOO_LARGE',
  415: 'HTTP.UNSUPPORTED_MEDIA_TYPE',
};

export const toErrorResponse = (exception: unknown): { status: number; body: ErrorBody } => {
  if (exception instanceof DomainError) {
    return {
      status: STATUS_BY_KIND[exception.kind],
      body: { code: exception.code, message: exception.message, details: exception.details },
    };
  }
  if (exception instanceof WrongExpectedVersion) {
    // Two writers raced for the same aggregate; the client may retry the same request.
    return {
      status: 409,
      body: {
        code: 'STORE.CONCURRENT_WRITE',
        message: 'another request changed this object at the same time; retry',
        details: [],
      },
    };
  }
  if (exception instanceof InvalidAppend) {
    return {
      status: 400,
      body: {
        code: 'STORE.INVALID_EVENT',
        message: exception.message,
        details: [{ field: exception.field, code: 'STORE.INVALID_EVENT' }],
      },
    };
  }
  if (exception instanceof EventStoreError && exception.retriable) {
    return {
      status: 503,
      body: { code: 'STORE.UNAVAILABLE', message: 'the event store is unavailable; retry', details: [] },
    };
  }
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    return { status, body: { code: HTTP_CODES[status] ?? `HTTP.${status}`, message: exception.message, details: [] } };
  }
  return { status: 500, body: { code: 'INTERNAL.ERROR', message: 'internal error', details: [] } };
};

@Catch()
export class ErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('http');

  catch(exception: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const { status, body } = toErrorResponse(exception);
    if (status >= 500)
      this.logger.error(exception instanceof Error ? (exception.stack ?? exception.message) : String(exception));
    void reply.status(status).header('content-type', 'application/json; charset=utf-8').send(body);
  }
}
