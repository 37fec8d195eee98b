// What the adapters report that nobody awaits: a handler failure being retried, a dead letter, a consumer restart.
// Injected so a service passes its pino logger and a test keeps its output clean; the default writes JSON lines to
// stderr, because a dead letter must never pass unseen.
export interface BusLogger {
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export const stderrBusLogger: BusLogger = {
  warn: (message, fields) => console.error(JSON.stringify({ level: 'warn', message, ...fields })),
  error: (message, fields) => console.error(JSON.stringify({ level: 'error', message, ...fields })),
};

export const errorFields = (e: unknown): Record<string, unknown> =>
  e instanceof Error
    ? { error: `${e.name}: ${e.message}`, retriable: (e as { retriable?: unknown }).retriable }
    : { error: String(e) };
