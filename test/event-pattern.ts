/**
 * A small EventBridge pattern matcher for tests: the subset of "Event patterns" (EventBridge
 * User Guide, eb-event-patterns and eb-create-pattern-operators) that the cluster's rules use.
 *
 * - A pattern is an object; every key in it must match (AND); keys it leaves out match anything.
 * - A nested object matches the event's object at that key; a missing or non-object value fails.
 * - An array lists the values that match (OR): exact strings, numbers, booleans or null, and the
 *   operators `{ prefix }`, `{ 'anything-but': value | values }` and `{ exists }`.
 * - A field the event lacks matches nothing but `{ exists: false }`.
 * - Where the event's value is an array, one matching element is enough.
 *
 * Anything else (numeric, suffix, wildcard, $or...) throws, so that a test never passes on an
 * operator this matcher silently ignores.
 */

export type EventPattern = { readonly [key: string]: readonly unknown[] | EventPattern };

type Json = unknown;

/** Whether `event` matches `pattern` as EventBridge would decide. */
export function matchesPattern(pattern: EventPattern, event: Json): boolean {
  if (!isObject(event)) return false;
  return Object.entries(pattern).every(([key, rule]) => matchesField(rule, key in event, event[key]));
}

function matchesField(rule: readonly unknown[] | EventPattern, present: boolean, value: Json): boolean {
  if (Array.isArray(rule)) return matchesAnyOf(rule, present, value);
  if (isObject(rule)) return present && matchesPattern(rule as EventPattern, value);
  throw new Error(`event pattern: a field must be an array of values or a nested object, got ${JSON.stringify(rule)}`);
}

function matchesAnyOf(alternatives: readonly unknown[], present: boolean, value: Json): boolean {
  if (alternatives.length === 0) throw new Error('event pattern: an empty array matches nothing in EventBridge and is refused');
  return alternatives.some((alternative) => matchesAlternative(alternative, present, value));
}

function matchesAlternative(alternative: unknown, present: boolean, value: Json): boolean {
  if (isObject(alternative)) return matchesOperator(alternative, present, value);
  if (!present) return false;
  return someLeaf(value, (leaf) => leaf === alternative);
}

function matchesOperator(operator: Record<string, unknown>, present: boolean, value: Json): boolean {
  const keys = Object.keys(operator);
  if (keys.length !== 1) throw new Error(`event pattern: an operator object has one key, got ${JSON.stringify(operator)}`);
  const [name] = keys;
  const argument = operator[name];
  switch (name) {
    case 'exists':
      if (typeof argument !== 'boolean') throw new Error('event pattern: exists takes true or false');
      // EventBridge's exists looks at leaves: an object value does not count as existing.
      return argument === (present && !isObject(value));
    case 'prefix':
      if (typeof argument !== 'string') throw new Error('event pattern: this matcher supports only a string prefix');
      return present && someLeaf(value, (leaf) => typeof leaf === 'string' && leaf.startsWith(argument));
    case 'anything-but': {
      const excluded = Array.isArray(argument) ? argument : [argument];
      if (excluded.some(isObject)) throw new Error('event pattern: this matcher supports anything-but of plain values only');
      return present && someLeaf(value, (leaf) => !excluded.includes(leaf));
    }
    default:
      throw new Error(`event pattern: operator '${name}' is not implemented by this test matcher`);
  }
}

/** Applies `test` to the value, or to each element when the event's value is an array. */
function someLeaf(value: Json, test: (leaf: Json) => boolean): boolean {
  return Array.isArray(value) ? value.some(test) : test(value);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
