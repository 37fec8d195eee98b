import { Module } from '@nestjs/common';

/**
 * The metering service. Hosted together with the other services by the embedded process (apps/exchange) or alone
 * in distributed mode. It registers no route until the route works, so for now it contributes nothing.
 */
@Module({})
export class MeteringModule {}
