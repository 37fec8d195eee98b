// A broken invariant stops the process: nothing is allowed to catch an AssertionFailed and carry on.
export class AssertionFailed extends Error {
  override readonly name = 'AssertionFailed';
}

export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionFailed(message);
}

export const assertNever = (value: never, message = 'unexpected value'): never => {
  throw new AssertionFailed(`${message}: ${JSON.stringify(value)}`);
};
