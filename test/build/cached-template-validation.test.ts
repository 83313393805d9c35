/**
 * CDK's template validation with its report cached per content: a template CDK's own validation
 * refuses is refused the same way from the cache, with the paths of this synth; a changed
 * template is validated again; an acknowledgement still applies to a cached report.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, CfnResource, CloudFormationValidatePlugin, Stack, Validations } from 'aws-cdk-lib';
import { CachedTemplateValidation } from '../../lib/build/cached-template-validation';

// As cdk.json: the validation's errors fail the synth.
const STRICT = { '@aws-cdk/core:validateAgainstDefaultRules': true };

/** An app whose one queue has `queueProperty` set to `value`; validated by the cached plugin or by CDK's default. */
function synth(value: unknown, options: { cached?: boolean; acknowledge?: boolean } = {}): { error?: string; report: string } {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'cached-validation-'));
  const app = new App({ outdir, context: STRICT });
  if (options.cached ?? true) Validations.of(app).addPlugins(CachedTemplateValidation.shared());
  const stack = new Stack(app, 'Queues', { env: { account: '123456789012', region: 'eu-central-1' } });
  new CfnResource(stack, 'Queue', { type: 'AWS::SQS::Queue', properties: { MessageRetentionPeriod: value } });
  if (options.acknowledge) Validations.of(stack).acknowledge({ id: 'CloudFormation-Validate::F3034', reason: 'test' });
  let error: string | undefined;
  try {
    app.synth();
  } catch (thrown) {
    error = (thrown as Error).message;
  }
  const reportFile = path.join(outdir, 'validation-report.json');
  const report = fs.existsSync(reportFile) ? fs.readFileSync(reportFile, 'utf8') : '';
  // The stack traces name this test's lines, which differ from one call to the next.
  return { error, report: report.split(outdir).join('<outdir>').replace(/"stackTraces": \[[^\]]*\]/g, '') };
}


describe('CachedTemplateValidation', () => {
  // 10 is below SQS's minimum retention of 60 s: CDK's validation (rule F3034) refuses it.
  const unique = 60 + Math.floor(Math.random() * 1_000_000);

  test('refuses what CDK\'s own validation refuses, the same way, fresh and from the cache', () => {
    const uncached = synth(10, { cached: false });
    expect(uncached.error).toMatch(/F3034/);
    const fresh = synth(10);
    const cached = synth(10);
    expect(fresh.error).toMatch(/F3034/);
    expect(cached.error).toMatch(/F3034/);
    expect(cached.report).toBe(uncached.report);
    expect(fresh.report).toBe(uncached.report);
  });

  test('a template seen before is not validated again; a changed one is', () => {
    // Counted on CDK's own plugin, which the cached one calls for a template new to the cache
    // (other test files add cache entries in parallel: the directory cannot be counted).
    const validations = jest.spyOn(CloudFormationValidatePlugin.prototype, 'validate');
    try {
      expect(synth(unique).error).toBeUndefined();
      expect(validations).toHaveBeenCalledTimes(1);
      expect(synth(unique).error).toBeUndefined();
      expect(validations).toHaveBeenCalledTimes(1);
      expect(synth(unique + 1).error).toBeUndefined();
      expect(validations).toHaveBeenCalledTimes(2);
    } finally {
      validations.mockRestore();
    }
  });

  test('an acknowledged rule is suppressed in a cached report as in a fresh one', () => {
    synth(10);
    expect(synth(10, { acknowledge: true }).error).toBeUndefined();
  });

  test('replaces CDK\'s default validation instead of running beside it', () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'cached-validation-'));
    const app = new App({ outdir, context: STRICT });
    Validations.of(app).addPlugins(CachedTemplateValidation.shared());
    new CfnResource(new Stack(app, 'Queues'), 'Queue', { type: 'AWS::SQS::Queue', properties: { MessageRetentionPeriod: 10 } });
    expect(() => app.synth()).toThrow(/F3034/);
    const report = JSON.parse(fs.readFileSync(path.join(outdir, 'validation-report.json'), 'utf8'));
    expect(JSON.stringify(report).match(/F3034/g)?.length).toBeGreaterThan(0);
    expect(report.pluginReports.map((r: { pluginName: string }) => r.pluginName)).toEqual(['CloudFormation Validate']);
  });
});
