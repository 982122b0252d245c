import { Fn, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { IConstruct } from 'constructs';
import { checkKeyRegion, grantKeyVia, isAliasByName } from './key-grants';

// A credential's secret replicated to other regions. Secrets Manager copies every version the handler writes (and
// every rotation) from the primary secret: the handler writes to the primary only, and a replica is read-only.

/** Throws an error naming the first bad region: one IAM would accept but Secrets Manager refuses at deploy. */
export function validateReplicaRegions(scope: IConstruct, replicas: secretsmanager.ReplicaRegion[] | undefined): void {
  if (replicas === undefined) return;
  const primary = Stack.of(scope).region;
  const seen = new Set<string>();
  for (const { region, encryptionKey } of replicas) {
    if (encryptionKey && isAliasByName(encryptionKey)) {
      throw new Error(`The key of replica region '${region}' is an alias by name, which names a key of the stack's own region: `
        + 'give the replica\'s key by its ARN (kms.Key.fromKeyArn)');
    }
    if (encryptionKey) checkKeyRegion(encryptionKey, region, `The key of replica region '${region}'`);
    if (Token.isUnresolved(region)) continue;
    // Partitions name regions so: us-east-1, us-gov-west-1, cn-north-1, eusc-de-east-1.
    if (!/^[a-z]{2,}(-[a-z]+)+-\d+$/.test(region)) {
      throw new Error(`Invalid replica region '${region}': expected a region name such as 'eu-west-1'`);
    }
    if (!Token.isUnresolved(primary) && region === primary) {
      throw new Error(`Replica region '${region}' is the secret's own region: a replica must be in another region`);
    }
    if (seen.has(region)) throw new Error(`Replica region '${region}' is given twice`);
    seen.add(region);
  }
}

/** The secret's `ReplicaRegions`, as `secretsmanager.Secret` renders them. */
export function replicaRegionsProperty(
  replicas: secretsmanager.ReplicaRegion[] | undefined,
): secretsmanager.CfnSecret.ReplicaRegionProperty[] | undefined {
  if (!replicas?.length) return undefined;
  return replicas.map((r) => ({ region: r.region, kmsKeyId: r.encryptionKey?.keyArn }));
}

/**
 * Lets the handler's role write a value Secrets Manager replicates: each new version is encrypted with each replica's
 * key, in the replica's region, under the identity that wrote it. A replica's key is in another region, so it is
 * imported, and granted in the role's own policy.
 */
export function allowReplicaKeys(role: iam.IGrantable, replicas: secretsmanager.ReplicaRegion[] | undefined): void {
  for (const { region, encryptionKey } of replicas ?? []) {
    if (encryptionKey) grantKeyVia(role, encryptionKey, region, ['kms:Encrypt', 'kms:GenerateDataKey*']);
  }
}

/**
 * Grants reading each replica: the same ARN in another region. (aws-cdk's `Secret.grantRead` grants the primary
 * only.) Secret names hold no ':', so the ARN's fourth field is its region.
 */
export function grantReplicaRead(grantee: iam.IGrantable, secretArn: string, replicas: secretsmanager.ReplicaRegion[] | undefined): void {
  if (!replicas?.length) return;
  const fields = Fn.split(':', secretArn, 7);
  iam.Grant.addToPrincipal({
    grantee,
    actions: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
    resourceArns: replicas.map(({ region }) => replicaArn(fields, region)),
  });
  for (const { region, encryptionKey } of replicas) {
    if (encryptionKey) grantKeyVia(grantee, encryptionKey, region, ['kms:Decrypt']);
  }
}

function replicaArn(fields: string[], region: string): string {
  return Fn.join(':', [fields[0], fields[1], fields[2], region, fields[4], fields[5], fields[6]]);
}
