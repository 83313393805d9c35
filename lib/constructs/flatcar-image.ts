import { Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';
import { FlatcarAmiConfig } from '../config';

/** The account that publishes Flatcar Container Linux AMIs. */
export const FLATCAR_AMI_OWNER = '075585003325';
/** Flatcar's stable channel, hardware-virtualized images. */
export const FLATCAR_AMI_NAME = 'Flatcar-stable-*-hvm';
/** What CDK's AMI lookup answers until the CLI has done the lookup. */
const PENDING_LOOKUP_AMI = 'ami-1234';

/**
 * The Flatcar image: a pinned id, or the newest stable image found by a lookup (needs AWS
 * credentials once; CDK caches the answer in cdk.context.json, where a refresh deletes it).
 */
export function flatcarMachineImage(scope: Construct, ami: FlatcarAmiConfig, region: string): ec2.IMachineImage {
  if (ami.kind === 'id') return ec2.MachineImage.genericLinux({ [region]: ami.amiId });
  const image = ec2.MachineImage.lookup({
    name: FLATCAR_AMI_NAME,
    owners: [FLATCAR_AMI_OWNER],
    filters: { architecture: ['x86_64'] },
  });
  if (image.getImage(scope).imageId === PENDING_LOOKUP_AMI) {
    // The first pass of `cdk synth` must finish for the CLI to see the lookup it asks for.
    Validations.of(Stack.of(scope)).acknowledge({
      id: 'CloudFormation-Validate::E1152',
      reason: 'The image id is a placeholder until the CLI answers the AMI lookup and synthesizes again.',
    });
  }
  return image;
}
