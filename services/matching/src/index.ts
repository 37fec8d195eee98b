export * from './config';
export * from './domain/order-book/order-book.events';
export * from './application/matching.events';
export * from './application/instruments';
export * from './application/market.read-model';
export {
  MatchingEngine,
  type BandVersionInput,
  type PlaceOrderInput,
  type HaltScope,
} from './application/matching.engine';
export * from './infrastructure/matching-integration';
export * from './infrastructure/guidance.consumer';
export * from './interface/matching.service';
export * from './interface/matching.controllers';
export * from './matching.module';
