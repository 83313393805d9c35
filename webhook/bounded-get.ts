/**
 * One GET to a service the webhook depends on (token-info, STS), bounded every way a slow or
 * hostile server could hold it: one deadline for connect, TLS, headers and body (a trickling
 * answer is as bad as a silent one), a bounded body, and no redirect (Node's request never
 * follows one). Rejects with a short reason that quotes nothing of the request.
 */
import * as http from 'http';
import * as https from 'https';

export interface BoundedGetOptions {
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly maxBodyBytes: number;
  /** An http.Agent for http: URLs, an https.Agent for https: ones. */
  readonly agent: http.Agent;
}

export interface BoundedResponse {
  readonly status: number;
  readonly body: string;
}

export function boundedGet(url: URL, options: BoundedGetOptions): Promise<BoundedResponse> {
  return new Promise<BoundedResponse>((resolve, reject) => {
    let settled = false;
    const settle = (done: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      done();
    };
    const transport = url.protocol === 'https:' ? https : http;
    const request = transport.request(url, { method: 'GET', headers: { ...options.headers }, agent: options.agent });
    const deadline = setTimeout(() => {
      settle(() => reject(new Error(`did not answer within ${options.timeoutMs} ms`)));
      request.destroy();
    }, options.timeoutMs);
    request.on('error', (error: NodeJS.ErrnoException) => settle(() => reject(new Error(`request failed: ${error.code ?? error.message}`))));
    request.on('response', (response) => {
      const chunks: Buffer[] = [];
      let length = 0;
      response.on('data', (chunk: Buffer) => {
        length += chunk.length;
        if (length > options.maxBodyBytes) {
          settle(() => reject(new Error(`answer exceeds ${options.maxBodyBytes} bytes`)));
          request.destroy();
          return;
        }
        chunks.push(chunk);
      });
      response.on('error', () => settle(() => reject(new Error('answer was cut off'))));
      response.on('end', () => settle(() => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') })));
    });
    request.end();
  });
}
