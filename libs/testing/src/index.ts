export * from './scale';
export * from './temp-dir';
export * from './wait-for';
