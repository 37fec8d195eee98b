export * from './metering.module';
