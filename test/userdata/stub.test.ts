/** The EC2 user data: a small Ignition config that replaces itself from S3. */
import { stubConfig, stubUserData } from '../../userdata/stub';
import { EXAMPLE_SHA512, stubAsset } from './fixtures';

describe('stubConfig', () => {
  test('replaces itself with the S3 config, checked against its sha512', () => {
    expect(stubConfig(stubAsset)).toEqual({
      ignition: {
        version: '3.3.0',
        config: { replace: { source: stubAsset.source, verification: { hash: `sha512-${EXAMPLE_SHA512}` } } },
      },
    });
  });

  test('stays under 1 KB even with a long, real-looking asset URL (EC2 allows 16 KB)', () => {
    const bytes = Buffer.byteLength(stubUserData(stubAsset));
    console.log(`stub user data: ${bytes} bytes`);
    expect(stubAsset.source.length).toBeGreaterThan(100);
    expect(bytes).toBeLessThan(1024);
  });

  test('refuses a non-S3 source or a malformed hash, naming the field', () => {
    expect(() => stubConfig({ ...stubAsset, source: 'https://example.org/x.json' })).toThrow(/stub\.source: got 'https:\/\/example\.org\/x\.json'/);
    expect(() => stubConfig({ ...stubAsset, sha512: 'abc' })).toThrow(/stub\.sha512: got 'abc', expected 128 lowercase hex/);
  });
});
