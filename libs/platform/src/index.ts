export * from './config';
export * from './http-app';
export * from './http-errors';
export * from './logger';
export * from './core.module';
export * from './page-query.dto';
export * from './idempotency.interceptor';
export * from './metrics';
