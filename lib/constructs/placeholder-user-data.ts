import * as ec2 from 'aws-cdk-lib/aws-ec2';

/** An empty Ignition config: a placeholder until the typed role configs plug in. */
export function placeholderUserData(): ec2.UserData {
  return ec2.UserData.custom(JSON.stringify({ ignition: { version: '3.3.0' } }));
}
