import { AccessRequest, AuthorizationDecision } from './authorizer';

/** SubjectAccessReview versions the API server may send (the authorization config's `subjectAccessReviewVersion`). */
export const SUBJECT_ACCESS_REVIEW_API_VERSIONS = ['authorization.k8s.io/v1', 'authorization.k8s.io/v1beta1'] as const;

export type ParsedSubjectAccessReview =
  | { readonly ok: true; readonly apiVersion: string; readonly request: AccessRequest }
  | { readonly ok: false; readonly message: string };

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);
const isStringList = (value: unknown): value is string[] => Array.isArray(value) && value.every((v) => typeof v === 'string');

class InvalidReview extends Error {}

function optionalString(record: Record<string, unknown>, key: string, path: string): string {
  const value = record[key];
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') throw new InvalidReview(`${path}.${key} must be a string`);
  return value;
}

function requiredString(record: Record<string, unknown>, key: string, path: string): string {
  const value = record[key];
  if (typeof value !== 'string' || value === '') throw new InvalidReview(`${path}.${key} must be a non-empty string`);
  return value;
}

/**
 * Checks a decoded SubjectAccessReview and normalises it: v1 names the groups
 * `spec.groups`, v1beta1 `spec.group`. Field types are checked strictly: a review we
 * do not fully understand is refused (400), never guessed at.
 */
export function parseSubjectAccessReview(body: unknown): ParsedSubjectAccessReview {
  try {
    if (!isObject(body)) throw new InvalidReview('body must be a JSON object (a SubjectAccessReview)');
    if (body.kind !== 'SubjectAccessReview') throw new InvalidReview(`kind must be "SubjectAccessReview", got ${JSON.stringify(body.kind) ?? 'nothing'}`);
    const apiVersion = body.apiVersion;
    if (typeof apiVersion !== 'string' || !(SUBJECT_ACCESS_REVIEW_API_VERSIONS as readonly string[]).includes(apiVersion)) {
      throw new InvalidReview(`apiVersion must be one of ${SUBJECT_ACCESS_REVIEW_API_VERSIONS.join(', ')}, got ${JSON.stringify(apiVersion) ?? 'nothing'}`);
    }
    const spec = body.spec;
    if (!isObject(spec)) throw new InvalidReview('spec must be an object');
    const user = requiredString(spec, 'user', 'spec');
    const v1 = apiVersion === 'authorization.k8s.io/v1';
    const groupsKey = v1 ? 'groups' : 'group';
    const otherKey = v1 ? 'group' : 'groups';
    if (spec[otherKey] !== undefined) throw new InvalidReview(`spec.${otherKey} is not part of ${apiVersion}; it sends the groups as spec.${groupsKey}`);
    const groups = spec[groupsKey] ?? [];
    if (!isStringList(groups)) throw new InvalidReview(`spec.${groupsKey} must be a list of strings`);
    if (spec.uid !== undefined && spec.uid !== null && typeof spec.uid !== 'string') throw new InvalidReview('spec.uid must be a string');
    if (spec.extra !== undefined && spec.extra !== null && !(isObject(spec.extra) && Object.values(spec.extra).every(isStringList))) {
      throw new InvalidReview('spec.extra must map names to lists of strings');
    }

    const resourceAttributes = spec.resourceAttributes;
    const nonResourceAttributes = spec.nonResourceAttributes;
    const hasResource = resourceAttributes !== undefined && resourceAttributes !== null;
    const hasNonResource = nonResourceAttributes !== undefined && nonResourceAttributes !== null;
    if (hasResource === hasNonResource) throw new InvalidReview('spec must have exactly one of resourceAttributes and nonResourceAttributes');

    if (hasResource) {
      if (!isObject(resourceAttributes)) throw new InvalidReview('spec.resourceAttributes must be an object');
      const path = 'spec.resourceAttributes';
      optionalString(resourceAttributes, 'version', path);
      const resource = {
        verb: requiredString(resourceAttributes, 'verb', path),
        group: optionalString(resourceAttributes, 'group', path),
        resource: requiredString(resourceAttributes, 'resource', path),
        subresource: optionalString(resourceAttributes, 'subresource', path),
        namespace: optionalString(resourceAttributes, 'namespace', path),
        name: optionalString(resourceAttributes, 'name', path),
      };
      return { ok: true, apiVersion, request: { user, groups, resource } };
    }
    if (!isObject(nonResourceAttributes)) throw new InvalidReview('spec.nonResourceAttributes must be an object');
    const path = 'spec.nonResourceAttributes';
    const nonResource = { verb: requiredString(nonResourceAttributes, 'verb', path), path: requiredString(nonResourceAttributes, 'path', path) };
    return { ok: true, apiVersion, request: { user, groups, nonResource } };
  } catch (error) {
    if (error instanceof InvalidReview) return { ok: false, message: error.message };
    throw error;
  }
}

/** The reply, in the request's apiVersion. */
export function subjectAccessReviewResponse(apiVersion: string, decision: AuthorizationDecision): object {
  return { apiVersion, kind: 'SubjectAccessReview', status: { allowed: decision.allowed, denied: decision.denied, reason: decision.reason } };
}
