import { Template } from 'aws-cdk-lib/assertions';
import { resourcesOfType } from './util';

/** One IAM policy statement as synthesized (values may be CloudFormation intrinsics). */
export interface Statement {
  readonly Sid?: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Action: string | string[];
  readonly Resource?: unknown;
  readonly Principal?: unknown;
  readonly Condition?: Record<string, Record<string, unknown>>;
}

/** A statement with the logical id of the role whose policy holds it. */
export interface RoleStatement {
  readonly role: string;
  readonly statement: Statement;
  /** The logical id of the policy resource it comes from (none for a role's inline policy). */
  readonly policy?: string;
}

/**
 * Every statement of every role of a template: attached policies (AWS::IAM::Policy,
 * AWS::IAM::ManagedPolicy) and inline ones. AWS-managed policies attached by ARN are
 * listed by `managedPolicyArnsOf`, not read.
 */
export function roleStatements(template: Template): RoleStatement[] {
  const result: RoleStatement[] = [];
  const add = (roles: unknown, statements: Statement[], policy?: string) => {
    for (const role of (roles as { Ref: string }[] | undefined) ?? []) {
      for (const statement of statements) result.push({ role: role.Ref, statement, policy });
    }
  };
  for (const type of ['AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy']) {
    for (const [id, policy] of Object.entries(resourcesOfType(template, type))) {
      add(policy.Properties.Roles, policy.Properties.PolicyDocument.Statement, id);
    }
  }
  for (const [id, role] of Object.entries(resourcesOfType(template, 'AWS::IAM::Role'))) {
    for (const policy of role.Properties.Policies ?? []) add([{ Ref: id }], policy.PolicyDocument.Statement);
  }
  return result;
}

/** The statements of one role; `exceptPolicies` leaves out the policies whose logical id it matches. */
export function statementsOfRole(template: Template, roleId: string, exceptPolicies?: RegExp): Statement[] {
  return roleStatements(template)
    .filter((s) => s.role === roleId && !(exceptPolicies && s.policy && exceptPolicies.test(s.policy)))
    .map((s) => s.statement);
}

export const actionsOf = (statement: Statement): string[] => [statement.Action].flat();
export const resourcesOf = (statement: Statement): unknown[] => [statement.Resource].flat();

/** IAM's wildcards: `*` any run of characters, `?` one character; case-insensitive for actions. */
export function wildcardMatches(pattern: string, value: string, ignoreCase = false): boolean {
  const regex = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${regex}$`, ignoreCase ? 'i' : '').test(value);
}

/** Whether a statement's Action (possibly a pattern such as `ec2:Create*`) covers `action`. */
export function grantsAction(statement: Statement, action: string): boolean {
  return actionsOf(statement).some((pattern) => wildcardMatches(pattern, action, true));
}

/**
 * A request's condition keys: absent keys are left out; values may be intrinsics; a
 * multivalued key (`aws:TagKeys`) is an array.
 */
export type RequestContext = Record<string, unknown>;

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
const like = (pattern: unknown, value: unknown) =>
  typeof pattern === 'string' && typeof value === 'string' ? wildcardMatches(pattern, value) : same(pattern, value);

const equalsAny = (values: unknown[], actual: unknown) => values.some((v) => same(v, actual));
const likeAny = (values: unknown[], actual: unknown) => values.some((v) => like(v, actual));

/** Whether one request value satisfies an operator against the policy's values (any may match; a Not operator: none). */
const OPERATORS: Record<string, (values: unknown[], actual: unknown) => boolean> = {
  StringEquals: equalsAny,
  ArnEquals: equalsAny,
  Bool: equalsAny,
  StringLike: likeAny,
  ArnLike: likeAny,
  StringNotEquals: (values, actual) => !equalsAny(values, actual),
  ArnNotEquals: (values, actual) => !equalsAny(values, actual),
  StringNotLike: (values, actual) => !likeAny(values, actual),
  ArnNotLike: (values, actual) => !likeAny(values, actual),
};

/**
 * Whether a statement's Condition block holds for a request, by IAM's rules for the
 * operators this project uses: every operator and key must hold (AND), any listed value may
 * match (OR); a missing key fails a positive operator, passes a negated one (`StringNotEquals`)
 * and any `...IfExists`; `Null: true` means "key absent" (or, for a multivalued key, empty).
 * `ForAllValues:` holds when every value of a multivalued key satisfies the operator, and so
 * also when the key is absent or empty (IAM User Guide, "Multivalued context keys" and
 * "Multivalued context key examples"). An operator it doesn't know (`ForAnyValue:` too)
 * throws, and so does a multivalued key under a single-valued operator: a test can't pass by
 * accident.
 */
export function conditionHolds(condition: Statement['Condition'], context: RequestContext): boolean {
  return Object.entries(condition ?? {}).every(([rawOperator, keys]) => {
    const forAllValues = rawOperator.startsWith('ForAllValues:');
    const unqualified = forAllValues ? rawOperator.slice('ForAllValues:'.length) : rawOperator;
    const ifExists = unqualified.endsWith('IfExists');
    const operator = ifExists ? unqualified.slice(0, -'IfExists'.length) : unqualified;
    const matches = operator === 'Null' ? undefined : OPERATORS[operator];
    if (operator !== 'Null' && matches === undefined) throw new Error(`conditionHolds: operator ${rawOperator} is not modelled; add it`);
    return Object.entries(keys).every(([key, expected]) => {
      const values = [expected].flat();
      const actual = context[key];
      const present = key in context && actual !== null && !(Array.isArray(actual) && actual.length === 0);
      if (matches === undefined) return values.every((v) => (v === 'true' ? !present : present));
      if (forAllValues) return (present ? [actual].flat() : []).every((a) => matches(values, a));
      if (Array.isArray(actual)) throw new Error(`conditionHolds: ${key} is multivalued; ${rawOperator} needs ForAllValues:`);
      if (!present) return ifExists || operator.includes('Not');
      return matches(values, actual);
    });
  });
}

/** `aws:ResourceTag/<key>` context keys for a resource's tags. */
export function resourceTagContext(tags: Record<string, string>): RequestContext {
  return Object.fromEntries(Object.entries(tags).map(([key, value]) => [`aws:ResourceTag/${key}`, value]));
}

/** The tags a resource carries (`Tags: [{Key, Value}]` or `[{key, value}]`), as a map. */
export function tagsOf(resource: { Properties: { Tags?: { Key?: string; Value?: string; key?: string; value?: string }[] } }): Record<string, string> {
  return Object.fromEntries((resource.Properties.Tags ?? []).map((t) => [t.Key ?? t.key, t.Value ?? t.value]));
}

/**
 * Whether `statements` let a request through: some Allow statement covers the action, the
 * resource (an ARN, or an intrinsic compared as written) and its conditions hold, and no
 * Deny statement does. Only the statements given count (no SCP, boundary or session policy).
 */
export function allows(statements: Statement[], action: string, resource: unknown, context: RequestContext = {}): boolean {
  const covers = (s: Statement) =>
    grantsAction(s, action) &&
    resourcesOf(s).some((r) => (typeof r === 'string' && typeof resource === 'string' ? wildcardMatches(r, resource) : same(r, resource))) &&
    conditionHolds(s.Condition, context);
  const matching = statements.filter(covers);
  return matching.some((s) => s.Effect === 'Allow') && !matching.some((s) => s.Effect === 'Deny');
}

/**
 * Replaces `Ref`, `Fn::GetAtt` and `Fn::Join` by the values given (`{ 'Bucket.Arn': 'arn:...',
 * 'Volume': 'vol-...' }`), so that ARN patterns can be matched; what it can't resolve stays.
 */
export function resolveIntrinsics<T>(value: T, values: Record<string, string>): T {
  const resolve = (v: any): any => {
    if (Array.isArray(v)) return v.map(resolve);
    if (v === null || typeof v !== 'object') return v;
    if ('Ref' in v && v.Ref in values) return values[v.Ref];
    if ('Fn::GetAtt' in v && v['Fn::GetAtt'].join('.') in values) return values[v['Fn::GetAtt'].join('.')];
    if ('Fn::Join' in v) {
      const [separator, parts] = v['Fn::Join'];
      const resolved = resolve(parts);
      if (resolved.every((p: unknown) => typeof p === 'string')) return resolved.join(separator);
    }
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, resolve(x)]));
  };
  return resolve(value);
}
