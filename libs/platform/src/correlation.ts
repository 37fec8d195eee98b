import type { FastifyInstance } from 'fastify';
import { withCorrelation } from '@cx/messaging';
import { isSafeId, newId } from '@cx/shared-kernel';

// Every HTTP request carries a correlation id (DESIGN.md): the client's `x-correlation-id` when it is a safe id,
// otherwise one made here. It is answered in the response header, so a client that sent none can still find its
// request in the audit log (`GET /v1/audit/events?correlationId=`), and the request's handlers run inside it
// (libs/messaging's context), so what they append and log names it.

export const CORRELATION_HEADER = 'x-correlation-id';

export const installCorrelation = (fastify: FastifyInstance): void => {
  fastify.addHook('onRequest', (req, reply, done) => {
    const given = req.headers[CORRELATION_HEADER];
    const id = isSafeId(given) ? given : newId();
    // Normalised on the request too, so code that reads the header itself (@CommandMeta, a proxy forwarding it)
    // sees the same id as the response and the events.
    req.headers[CORRELATION_HEADER] = id;
    void reply.header(CORRELATION_HEADER, id);
    done();
  });
  // After the body is parsed (its stream's callbacks would lose an earlier context), and before guards,
  // interceptors and the handler, which all run from here on inside it. A request is its own cause.
  fastify.addHook('preValidation', (req, _reply, done) => {
    const id = req.headers[CORRELATION_HEADER] as string;
    withCorrelation({ correlationId: id, causationId: id }, done);
  });
};
