import { CheckResult, fail, pass } from './check-result';

/** What GET /readyz?verbose answered, or why it did not. */
export type ReadyzAnswer = { readonly status: number; readonly body: string } | { readonly error: string };

const CHECK = 'api-server';
/** The verbose answer's last line when every check passed (kubernetes/apiserver v0.35.1 pkg/server/healthz/healthz.go:330, name `readyz`). */
const READYZ_PASSED = 'readyz check passed';

/**
 * The API server's readiness, from /readyz?verbose. Each check is one line, `[+]<name> ok` or
 * `[-]<name> failed: reason withheld`, then `readyz check passed` (200) or `readyz check
 * failed` (500) (kubernetes/apiserver v0.35.1 pkg/server/healthz/healthz.go handleRootHealth).
 * The etcd checks are named `etcd` (liveness) and `etcd-readiness`
 * (pkg/server/options/etcd.go addEtcdHealthEndpoint), named here to show the datastore's state.
 * A 200 counts only with that last line, as healthz.go line 330 writes it after the checks,
 * `fmt.Fprintf(w, "%s check passed\n", name)`: anything else answering 200 (a proxy, a
 * captive portal, a server that is not the API server) is not a ready API server.
 */
export function checkApiServer(answer: ReadyzAnswer): CheckResult {
  if ('error' in answer) return fail(CHECK, `/readyz: ${answer.error}`);
  const checks = [...answer.body.matchAll(/^\[([+-])\](\S+) (.*)$/gm)].map(([, sign, name, rest]) => ({ ok: sign === '+', name, rest }));
  const etcd = checks.filter((c) => c.name.startsWith('etcd'));
  const etcdSummary = etcd.length > 0 ? etcd.map((c) => `${c.name} ${c.ok ? 'ok' : 'failed'}`).join(', ') : 'no etcd checks listed';
  const failed = checks.filter((c) => !c.ok).map((c) => c.name);
  const passed = answer.body === `${READYZ_PASSED}\n` || answer.body.endsWith(`\n${READYZ_PASSED}\n`);
  if (answer.status === 200 && failed.length === 0 && passed) return pass(CHECK, `/readyz ok (${etcdSummary})`);
  const why =
    failed.length > 0
      ? `failed: ${failed.join(', ')}`
      : answer.status === 200
        ? `HTTP 200 without its last line "${READYZ_PASSED}" (not the API server's answer?): ${JSON.stringify(answer.body.slice(0, 80))}`
        : `HTTP ${answer.status}: ${firstLine(answer.body)}`;
  return fail(CHECK, `/readyz not ready, ${why} (${etcdSummary})`);
}

function firstLine(text: string): string {
  return text.split('\n')[0].slice(0, 200) || 'empty answer';
}
