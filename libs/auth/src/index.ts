export * from './principal';
export * from './key-verifier';
export * from './decorators';
export * from './auth.guard';
export * from './tenancy';
export * from './command-meta.decorator';
