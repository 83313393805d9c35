/**
 * A PEM private key of any kind (PKCS#8, RSA, EC, encrypted, OpenSSH), header to footer.
 * The body may be wrapped or escaped as `\n` inside JSON strings. A header alone counts
 * too: a template may split the key between parts of an Fn::Join.
 */
const PEM_PRIVATE_KEY = /-----BEGIN ((?:[A-Z0-9]+ )*PRIVATE KEY)-----(?:[\s\S]*?-----END \1-----)?/g;

/** Tokens shorter than this are too likely to occur by chance to be evidence of a leak. */
export const MIN_KNOWN_TOKEN_LENGTH = 16;

/**
 * Secret material found in `text` (e.g. a synthesized template, an asset, user data):
 * every PEM private key block, and every occurrence of one of `knownTokens`. Returns
 * the findings in order of appearance, each as the matched text.
 *
 * @throws if a known token is shorter than MIN_KNOWN_TOKEN_LENGTH (a search for it
 *   would match innocent text and say nothing)
 */
export function findSecretMaterial(text: string, knownTokens: readonly string[] = []): string[] {
  for (const token of knownTokens) {
    if (token.length < MIN_KNOWN_TOKEN_LENGTH) {
      throw new Error(`known token of length ${token.length} is too short to search for (minimum ${MIN_KNOWN_TOKEN_LENGTH})`);
    }
  }
  const findings: { index: number; match: string }[] = [];
  for (const match of text.matchAll(PEM_PRIVATE_KEY)) {
    findings.push({ index: match.index ?? 0, match: match[0] });
  }
  for (const token of knownTokens) {
    for (let index = text.indexOf(token); index !== -1; index = text.indexOf(token, index + 1)) {
      findings.push({ index, match: token });
    }
  }
  return findings.sort((a, b) => a.index - b.index).map((finding) => finding.match);
}
