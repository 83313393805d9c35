import { randomBytes } from 'node:crypto';

/** 32 random bytes: 256 bits, beyond any brute force, and what kubeadm-style tokens carry. */
export const TOKEN_BYTES = 32;

/** A bearer token: TOKEN_BYTES random bytes, base64url (no padding, safe in headers and YAML). */
export function generateToken(): string {
  return randomBytes(TOKEN_BYTES).toString('base64url');
}
