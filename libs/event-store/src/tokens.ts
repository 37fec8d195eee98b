// Injection token for the EventStore port, a plain string so that nothing here depends on a framework.
export const EVENT_STORE = 'cx.EventStore';
