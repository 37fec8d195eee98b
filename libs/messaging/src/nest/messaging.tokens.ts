// Injection token for the MessageBus port, a plain string so that nothing here depends on a framework.
export const MESSAGE_BUS = 'cx.MessageBus';
