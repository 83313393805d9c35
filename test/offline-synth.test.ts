import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { IConstruct } from 'constructs';
import { createCluster } from '../lib/cluster';
import { loadClusterConfig } from '../lib/config';
import { exampleContext, synthesizeCluster } from './util';

describe('offline synth of the example cluster', () => {
  test('makes exactly the three stacks, with no missing context and no lookups', () => {
    const { app } = synthesizeCluster();
    const assembly = app.synth();
    expect(assembly.stacks.map((s) => s.stackName).sort()).toEqual([
      'kube-aws-test-1-etcd',
      'kube-aws-test-1-master',
      'kube-aws-test-1-worker',
    ]);
    expect(assembly.manifest.missing ?? []).toEqual([]);
    for (const stack of assembly.stacks) {
      expect(stack.environment).toMatchObject({ account: '123456789012', region: 'eu-central-1' });
    }
  });

  test('asks for a lookup only when the user chooses one (flatcarAmi=lookup)', () => {
    const app = new App({ context: exampleContext({ flatcarAmi: 'lookup' }) });
    createCluster(app, loadClusterConfig((key) => app.node.tryGetContext(key), Object.keys(app.node.getAllContext())));
    // The first pass must pass validation with the placeholder image, or the CLI never sees the lookup.
    const missing = app.synth().manifest.missing ?? [];
    // One lookup, shared by the three stacks (same account, region and filters).
    expect(missing.map((m) => m.provider)).toEqual(['ami']);
    expect(missing[0].props).toMatchObject({ owners: ['075585003325'], filters: { name: ['Flatcar-stable-*-hvm'] } });
  });
});

describe('checks on every synth', () => {
  test('cdk-nag AwsSolutions findings fail synthesis', () => {
    const { app, stacks } = synthesizeCluster();
    new s3.Bucket(stacks.etcd, 'Unchecked');
    expect(() => app.synth({ force: true })).toThrow(/AwsSolutions-S1/);
  });

  test('every acknowledged finding carries a reason', () => {
    const { app } = synthesizeCluster();
    const acknowledgements: { id: string; reason: string }[] = [];
    const visit = (c: IConstruct) => {
      for (const entry of c.node.metadata) {
        if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
        for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) acknowledgements.push({ id, reason });
      }
      c.node.children.forEach(visit);
    };
    visit(app);
    expect(acknowledgements.length).toBeGreaterThan(5);
    for (const { id, reason } of acknowledgements) expect({ id, reasonLength: reason.length > 40 }).toEqual({ id, reasonLength: true });
  });
});

describe('the CDK app (bin/kubernetes-on-aws.ts)', () => {
  test('refuses bad context with every problem named (unknown keys too, not the CDK CLI\'s own), and writes no stack', () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-out-'));
    const result = spawnSync(
      process.execPath,
      [require.resolve('ts-node/dist/bin'), '--transpile-only', path.join(__dirname, '..', 'bin', 'kubernetes-on-aws.ts')],
      {
        env: {
          ...process.env,
          // The aws:cdk: keys are those `npx cdk synth` adds (aws-cdk 2.1148.1).
          CDK_CONTEXT_JSON: JSON.stringify(
            exampleContext({
              etcdCount: 2,
              account: 'nope',
              workerInstanceTyp: 'm5.large',
              'aws:cdk:enable-path-metadata': true,
              'aws:cdk:enable-asset-metadata': true,
              'aws:cdk:version-reporting': true,
              'aws:cdk:bundling-stacks': ['**'],
            }),
          ),
          CDK_OUTDIR: outdir,
        },
        encoding: 'utf8',
      },
    );
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/account: must be a 12-digit AWS account id, got 'nope'/);
    expect(result.stderr).toMatch(/etcdCount: must be odd/);
    expect(result.stderr).toMatch(/workerInstanceTyp: is not a setting of this app; did you mean workerInstanceType\?/);
    expect(result.stderr).toMatch(/\(3 problems\)/);
    expect(result.stderr).not.toMatch(/at .*\.ts:\d+/); // no stack trace for a user's mistake
    expect(fs.readdirSync(outdir).filter((f) => f.endsWith('.template.json'))).toEqual([]);
  });
});
