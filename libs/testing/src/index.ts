export * from './scale';
export * from './temp-dir';
export * from './wait-for';
export * from './kafka';
export * from './exchange-process';
export * from './test-host';
export * from './http-call';
export * from './store-faults';
