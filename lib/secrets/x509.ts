// @peculiar/x509, loaded after the Reflect metadata polyfill its dependency injection needs,
// and set to use Node's WebCrypto. Import the library through this module only.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import { cryptoProvider } from '@peculiar/x509';

// The library's crypto types are the DOM's; Node's WebCrypto implements the same API.
cryptoProvider.set(webcrypto as unknown as Parameters<typeof cryptoProvider.set>[0]);

export * from '@peculiar/x509';
