// Provides MESSAGE_BUS and subscribes @TopicHandler methods at bootstrap. The application picks the adapter
// (KafkaBus in distributed mode, InProcessBus in embedded mode) and owns its life: it closes the bus at shutdown.
import { Module } from '@nestjs/common';
import type { DynamicModule, FactoryProvider } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import type { MessageBus } from '../bus.port';
import { MESSAGE_BUS } from './messaging.tokens';
import { TopicHandlerExplorer } from './topic-handler.explorer';

@Module({})
export class MessagingModule {
  static forBus(bus: MessageBus): DynamicModule {
    return MessagingModule.withProvider({ provide: MESSAGE_BUS, useFactory: () => bus });
  }

  static forRootAsync(
    opts: Pick<FactoryProvider<MessageBus | Promise<MessageBus>>, 'useFactory' | 'inject'>,
  ): DynamicModule {
    return MessagingModule.withProvider({
      provide: MESSAGE_BUS,
      useFactory: opts.useFactory,
      inject: opts.inject ?? [],
    });
  }

  private static withProvider(provider: FactoryProvider): DynamicModule {
    return {
      module: MessagingModule,
      global: true,
      imports: [DiscoveryModule],
      providers: [provider, TopicHandlerExplorer],
      exports: [MESSAGE_BUS],
    };
  }
}
