import { ROLE_NAMES } from './config';
import { AUTHORIZATION_MATRIX, RESOURCE_CLASSES, ResourceClass, roleSuffices, VERB_CLASSES, VerbClass } from './authorizer';

/**
 * The authorization matrix as markdown, for webhook/README.md. Rendered from the table
 * the authorizer uses, and a test keeps the README equal to it, so the docs cannot drift.
 */
export function authorizationMatrixMarkdown(): string {
  const header = `| resource class | verb class | ${ROLE_NAMES.join(' | ')} |\n| --- | --- |${ROLE_NAMES.map(() => ' :---: |').join('')}\n`;
  const rows = (Object.keys(AUTHORIZATION_MATRIX) as ResourceClass[]).flatMap((resourceClass) =>
    (Object.keys(VERB_CLASSES) as VerbClass[]).map((verbClass) => {
      const cells = ROLE_NAMES.map((role) => (roleSuffices(role, AUTHORIZATION_MATRIX[resourceClass][verbClass]) ? 'allow' : 'deny'));
      return `| ${resourceClass} | ${verbClass} | ${cells.join(' | ')} |\n`;
    }));
  const resourceLegend = (Object.entries(RESOURCE_CLASSES) as [string, string][]).map(([name, text]) => `- **${name}**: ${text}\n`).join('');
  const verbLegend = (Object.entries(VERB_CLASSES) as [string, string][]).map(([name, text]) => `- **${name}**: ${text}\n`).join('');
  return `${header}${rows.join('')}\nVerb classes:\n\n${verbLegend}\nResource classes (the first that matches, in this order of precedence: malformed, wildcard, own-access-review, rbac, interception, control-plane-access, nodes, system-logs-and-secrets, system-namespaces, cluster-scoped, secrets, connect, general):\n\n${resourceLegend}`;
}
