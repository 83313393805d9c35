import * as http from 'http';
import { AddressInfo } from 'net';

/**
 * A token-info stand-in that holds every answer until the test releases it: tests order
 * events ("the lookup is under way", "now answer") instead of waiting for time to pass.
 */
export interface GatedTokenInfo {
  readonly url: string;
  /** token -> JSON answer; unknown tokens get 401. */
  readonly users: Map<string, unknown>;
  /** Requests received so far, in order (the bearer tokens). */
  readonly received: string[];
  /** The most requests held at once. */
  readonly mostHeldAtOnce: number;
  /** Resolves once `count` requests have arrived in all. */
  waitForRequests(count: number): Promise<void>;
  /** Answers every held request (and those arriving later, until hold() is called). */
  release(): void;
  /** Holds requests again. */
  hold(): void;
  close(): Promise<void>;
}

export async function startGatedTokenInfo(): Promise<GatedTokenInfo> {
  let open = false;
  let held: Array<() => void> = [];
  let mostHeldAtOnce = 0;
  const waiters: Array<{ count: number; resolve: () => void }> = [];
  const received: string[] = [];
  const users = new Map<string, unknown>();
  const server = http.createServer((request, response) => {
    const token = (request.headers.authorization ?? '').replace(/^Bearer /, '');
    received.push(token);
    const answer = () => {
      const user = users.get(token);
      if (user === undefined) response.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"invalid_token"}');
      else response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(user));
    };
    if (open) answer();
    else {
      held.push(answer);
      mostHeldAtOnce = Math.max(mostHeldAtOnce, held.length);
    }
    for (const waiter of waiters.filter((w) => received.length >= w.count)) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/oauth2/tokeninfo`,
    users,
    received,
    get mostHeldAtOnce() {
      return mostHeldAtOnce;
    },
    waitForRequests: (count) => (received.length >= count ? Promise.resolve() : new Promise((resolve) => waiters.push({ count, resolve }))),
    release: () => {
      open = true;
      const answers = held;
      held = [];
      for (const answer of answers) answer();
    },
    hold: () => {
      open = false;
    },
    close: () => new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
