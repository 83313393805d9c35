// The baseline of bench/synth.ts: a CDK app with one empty stack, synthesized on exit
// like any app that the CLI starts (CDK_OUTDIR set).
import { App, Stack } from 'aws-cdk-lib';

const app = new App();
new Stack(app, 'Empty', { env: { account: '123456789012', region: 'eu-central-1' } });
