import 'reflect-metadata'; // @peculiar/x509's dependency injection needs the polyfill first
import { ChildProcess, spawn } from 'child_process';
import { webcrypto } from 'crypto';
import * as x509 from '@peculiar/x509';
import { configDocument, temporaryDirectory, writeConfig } from './fixtures';

export interface Exited {
  readonly code: number | null;
  readonly stderr: string;
}

/** Runs the CLI as users do (`node bin/kube-auth-webhook.js ...`) until it exits. */
export function runToExit(command: string, args: readonly string[], cwd?: string): Promise<Exited> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [command, ...args], { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (chunk) => (stderr += chunk));
    child.on('exit', (code) => resolve({ code, stderr }));
  });
}

/** Starts the CLI and resolves with its URL once it logs that it is listening. */
export function runUntilListening(command: string, args: readonly string[], cwd?: string): Promise<{ child: ChildProcess; url: string; exited: Promise<Exited> }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [command, ...args], { cwd, stdio: ['ignore', 'ignore', 'pipe'], env: { PATH: process.env.PATH ?? '' } });
    let stderr = '';
    const exited = new Promise<Exited>((done) => child.on('exit', (code) => done({ code, stderr })));
    child.stderr!.on('data', (chunk) => {
      stderr += chunk;
      const match = /"msg":"listening","url":"([^"]+)"/.exec(stderr);
      if (match) resolve({ child, url: match[1], exited });
    });
    exited.then(({ code }) => reject(new Error(`exited with ${code} before listening:\n${stderr}`)));
  });
}

export function validConfigFile(tokenInfoUrl: string): string {
  const directory = temporaryDirectory();
  return writeConfig(directory, configDocument(tokenInfoUrl));
}

/** A throwaway certificate for 127.0.0.1 and its PKCS#8 key, both PEM. */
export async function selfSignedLoopbackCertificate(): Promise<{ certificatePem: string; keyPem: string }> {
  const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify']) as webcrypto.CryptoKeyPair;
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: 'CN=127.0.0.1',
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 3_600_000),
    keys,
    signingAlgorithm: algorithm,
    extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'ip', value: '127.0.0.1' }])],
  }, webcrypto as unknown as Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[1]);
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const keyPem = `-----BEGIN PRIVATE KEY-----\n${pkcs8.toString('base64').match(/.{1,64}/g)!.join('\n')}\n-----END PRIVATE KEY-----\n`;
  return { certificatePem: certificate.toString('pem'), keyPem };
}
