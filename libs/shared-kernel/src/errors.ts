// Refused requests carry a stable code (`SERVICE.REASON`) and the fields at fault. The HTTP layer maps the kind
// to a status once (libs/platform); nothing else decides status codes.

export type ErrorKind =
  'invalid' | 'unauthenticated' | 'forbidden' | 'not_found' | 'conflict' | 'unprocessable' | 'rate_limited';

export interface ErrorDetail {
  field: string;
  code: string;
  message?: string;
}

export class DomainError extends Error {
  override readonly name = 'DomainError';

  constructor(
    readonly code: string,
    message: string,
    readonly kind: ErrorKind = 'invalid',
    readonly details: ErrorDetail[] = [],
  ) {
    super(message);
  }

  static invalid(code: string, message: string, field?: string): DomainError {
    return new DomainError(code, message, 'invalid', field ? [{ field, code }] : []);
  }

  static notFound(code: string, message: string): DomainError {
    return new DomainError(code, message, 'not_found');
  }

  static conflict(code: string, message: string, field?: string): DomainError {
    return new DomainError(code, message, 'conflict', field ? [{ field, code }] : []);
  }
}

export const isDomainError = (e: unknown): e is DomainError => e instanceof DomainError;
