export * from './pricing-guidance.module';
