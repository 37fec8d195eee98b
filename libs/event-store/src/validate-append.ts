import { InvalidAppend } from './event-store.errors';
import type { NewEvent } from './event-store.port';
import { jsonTextOf } from './json-text';

// Validation of an append, shared by every EventStore adapter (SQLite and EventStoreDB) and free of any SDK.
// It runs before the store is called, so a malformed call writes nothing, and every adapter refuses the same
// calls with the same `field`. Checks run in a fixed order and the first failure wins:
//   stream → expectedRevision → events (the batch) → for each event in order: id, duplicate id, type, data, metadata.

/** Revisions are signed 64-bit on the server (EventStoreDB stores them as long), so nothing larger can exist. */
const MAX_REVISION = 2n ** 63n - 1n;

/** Any RFC 4122 layout, any version: EventStoreDB accepts every 128-bit id and so do we. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const isUuid = (s: unknown): s is string => typeof s === 'string' && UUID.test(s);

/** The stream name must be a non-empty string outside the `$` namespace, which EventStoreDB keeps for system streams. */
export const validateStreamName = (stream: unknown): void => {
  if (typeof stream !== 'string' || stream.length === 0) {
    throw new InvalidAppend('stream name must be a non-empty string', 'stream');
  }
  if (stream.startsWith('$')) {
    throw new InvalidAppend(`stream name "${stream}" starts with "$", which is reserved for system streams`, 'stream');
  }
};

/** 'any', 'no_stream', 'stream_exists' or a non-negative bigint; undefined means 'any'. */
export const validateExpectedRevision = (expectedRevision: unknown): void => {
  if (expectedRevision === undefined) return;
  if (typeof expectedRevision === 'bigint') {
    if (expectedRevision < 0n) {
      throw new InvalidAppend(
        `expectedRevision ${expectedRevision} is negative; revisions start at 0`,
        'expectedRevision',
      );
    }
    if (expectedRevision > MAX_REVISION) {
      throw new InvalidAppend(
        `expectedRevision ${expectedRevision} is beyond the largest revision`,
        'expectedRevision',
      );
    }
    return;
  }
  if (typeof expectedRevision === 'number') {
    // A JS number cannot hold every revision exactly, so the port takes bigints only; say how to fix the call.
    throw new InvalidAppend(
      `expectedRevision must be a bigint, not the number ${String(expectedRevision)} (write ${Number.isInteger(expectedRevision) ? `${expectedRevision}n` : 'a bigint'})`,
      'expectedRevision',
    );
  }
  if (expectedRevision === 'any' || expectedRevision === 'no_stream' || expectedRevision === 'stream_exists') return;
  throw new InvalidAppend(
    `expectedRevision must be 'any', 'no_stream', 'stream_exists' or a bigint, not ${describe(expectedRevision)}`,
    'expectedRevision',
  );
};

/**
 * Throws InvalidAppend, naming the field at fault, when the append is malformed. Returns nothing: adapters pass the
 * caller's events on unchanged (after generating missing ids).
 */
export const validateAppend = (stream: unknown, events: unknown, expectedRevision: unknown): void => {
  validateStreamName(stream);
  validateExpectedRevision(expectedRevision);

  const batch: unknown[] = Array.isArray(events) ? events : [events];
  if (batch.length === 0) {
    throw new InvalidAppend('an append needs at least one event', 'events');
  }

  // Allocates nothing for a valid event but the id map of a batch with ids: validation runs on every append.
  let seenIds: Map<string, number> | null = null;
  for (let i = 0; i < batch.length; i++) {
    const event = batch[i];
    if (!isPlainObject(event)) {
      throw new InvalidAppend(
        `events[${i}] must be an object with type and data, not ${describe(event)}`,
        `events[${i}]`,
      );
    }
    const { id, type, data, metadata } = event as Partial<NewEvent> & Record<string, unknown>;

    if (id !== undefined) {
      if (!isUuid(id)) {
        throw new InvalidAppend(`events[${i}].id must be a UUID, not ${describe(id)}`, `events[${i}].id`);
      }
      if (batch.length > 1) {
        // Ids compare case-insensitively, as EventStoreDB compares them as GUIDs.
        const key = id.toLowerCase();
        seenIds ??= new Map<string, number>();
        const first = seenIds.get(key);
        if (first !== undefined) {
          throw new InvalidAppend(
            `events[${i}].id ${id} repeats events[${first}].id; ids must be unique within a batch`,
            `events[${i}].id`,
          );
        }
        seenIds.set(key, i);
      }
    }

    if (typeof type !== 'string' || type.length === 0) {
      throw new InvalidAppend(`events[${i}].type must be a non-empty string`, `events[${i}].type`);
    }
    if (type.startsWith('$')) {
      // Reading $all and subscribing to it drop '$' types as system events, so such an event would vanish from them.
      throw new InvalidAppend(
        `events[${i}].type "${type}" starts with "$", which is reserved for system events`,
        `events[${i}].type`,
      );
    }

    // An event with its JSON text attached (json-text.ts) was validated by the decorator that serialised it.
    if (jsonTextOf(event as unknown as NewEvent) !== undefined) continue;

    // The fast walk only says whether the value is fine; the slow one, which builds paths, runs only to explain a
    // refusal. Validation walks every node of the payload, so this matters for large events (a ledger batch).
    if (!isJsonSafe(data)) {
      throw new InvalidAppend(`events[${i}].${jsonProblem(data, 'data') ?? 'data'}`, `events[${i}].data`);
    }

    if (metadata !== undefined) {
      if (!isPlainObject(metadata)) {
        throw new InvalidAppend(
          `events[${i}].metadata must be a plain object, not ${describe(metadata)}`,
          `events[${i}].metadata`,
        );
      }
      if (!isJsonSafe(metadata)) {
        throw new InvalidAppend(
          `events[${i}].${jsonProblem(metadata, 'metadata') ?? 'metadata'}`,
          `events[${i}].metadata`,
        );
      }
    }
  }
};

/**
 * Why `value` would not survive a JSON round trip unchanged, or undefined when it would. Only plain objects,
 * arrays, strings, finite numbers, booleans and null qualify (the port's definition): JSON.stringify would silently
 * drop undefined and functions, turn NaN into null, a Date into a string and a Map into {}, and throws on BigInt and
 * cycles, so each of those is refused here instead of being stored changed.
 */
export const jsonProblem = (value: unknown, path: string, ancestors: object[] = []): string | undefined => {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return undefined;
    case 'number':
      return Number.isFinite(value) ? undefined : `${path} is ${String(value)}, which JSON cannot represent`;
    case 'undefined':
      return `${path} is undefined, which JSON cannot represent`;
    case 'bigint':
      return `${path} is a BigInt, which JSON cannot represent (send it as a decimal string)`;
    case 'function':
      return `${path} is a function, which JSON cannot represent`;
    case 'symbol':
      return `${path} is a symbol, which JSON cannot represent`;
  }
  if (value === null) return undefined;
  const obj = value as object;
  if (ancestors.includes(obj))
    return `${path} refers back to an enclosing value (a cycle), which JSON cannot represent`;
  const inner = [...ancestors, obj];
  if (Array.isArray(obj)) {
    for (let i = 0; i < obj.length; i++) {
      const problem = jsonProblem(obj[i], `${path}[${i}]`, inner);
      if (problem) return problem;
    }
    return undefined;
  }
  if (!isPlainObject(obj)) {
    return `${path} is ${describe(obj)}, not a plain object, so JSON would not keep it as it is`;
  }
  for (const key of Object.keys(obj)) {
    const problem = jsonProblem((obj as Record<string, unknown>)[key], `${path}.${key}`, inner);
    if (problem) return problem;
  }
  if (Object.getOwnPropertySymbols(obj).length > 0) {
    return `${path} has symbol keys, which JSON cannot represent`;
  }
  return undefined;
};

/**
 * Whether `value` survives a JSON round trip unchanged: exactly when jsonProblem finds nothing, but without building
 * a path string or copying the ancestor list at every node. `ancestors` is a stack shared by the whole walk.
 */
export const isJsonSafe = (value: unknown, ancestors: object[] = []): boolean => {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value);
    case 'object':
      break;
    default:
      return false;
  }
  if (value === null) return true;
  // Payloads are shallow, so a linear search of the enclosing values is cheaper than a Set.
  if (ancestors.includes(value)) return false;
  ancestors.push(value);
  let ok = true;
  if (Array.isArray(value)) {
    for (let i = 0; ok && i < value.length; i++) ok = isJsonSafe(value[i], ancestors);
  } else if (!isPlainObject(value)) {
    ok = false;
  } else {
    const keys = Object.keys(value);
    for (let i = 0; ok && i < keys.length; i++) ok = isJsonSafe(value[keys[i] as string], ancestors);
    if (ok) ok = Object.getOwnPropertySymbols(value).length === 0;
  }
  ancestors.pop();
  return ok;
};

const isPlainObject = (v: unknown): v is Record<string, unknown> => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
};

const describe = (v: unknown): string => {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') {
    const name = (Object.getPrototypeOf(v) as { constructor?: { name?: string } } | null)?.constructor?.name;
    return name ? `a ${name}` : 'an object';
  }
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'bigint') return `${v}n`;
  return `${typeof v} ${String(v)}`;
};
