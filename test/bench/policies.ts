// IAM policy documents of a synthesized template, with CloudFormation's tokens replaced by values as long as
// the real ones: CDK estimates a token by the length of its JSON, but IAM counts the ARN it resolves to.

const ACCOUNT = '123456789012';
const REGION = 'us-east-1';
/** CloudFormation names generated resources `<stack>-<logical id>-<12 random characters>` (at most 64 for users). */
const generated = (stack: string, logicalId: string, max = 128) => `${stack}-${logicalId}`.slice(0, max - 13) + '-ABCDEFGHIJKL';

export interface PolicySize {
  readonly name: string;
  readonly kind: 'inline' | 'managed';
  /** Characters, whitespace excluded, as IAM counts them. */
  readonly size: number;
  readonly limit: number;
}

/** Inline policies count against their role's aggregate limit (10,240); each managed policy has its own (6,144). */
export function policyDocuments(template: any, stack = 'Credentials'): PolicySize[] {
  const resources: Record<string, any> = template.Resources;
  const resolve = (v: any): any => {
    if (Array.isArray(v)) return v.map(resolve);
    if (v === null || typeof v !== 'object') return v;
    if ('Ref' in v) {
      if (v.Ref === 'AWS::Partition') return 'aws';
      if (v.Ref === 'AWS::AccountId') return ACCOUNT;
      if (v.Ref === 'AWS::Region') return REGION;
      if (resources[v.Ref]?.Type === 'AWS::SecretsManager::Secret') return secretArn(v.Ref);
      return generated(stack, v.Ref);
    }
    if ('Fn::GetAtt' in v) {
      const [id, attr] = v['Fn::GetAtt'];
      const type = resources[id]?.Type;
      if (type === 'AWS::IAM::User') {
        const user = resources[id].Properties ?? {};
        return `arn:aws:iam::${ACCOUNT}:user${user.Path ?? '/'}${user.UserName ?? generated(stack, id, 64)}`;
      }
      if (type === 'AWS::Logs::LogGroup') return `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${generated(stack, id, 512)}:*`;
      if (attr === 'SecretArn') return secretArn(id);
      return `arn:aws:${type?.split('::')[1]?.toLowerCase()}:${REGION}:${ACCOUNT}:${generated(stack, id)}`;
    }
    if ('Fn::Join' in v) return resolve(v['Fn::Join'][1]).join(v['Fn::Join'][0]);
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, resolve(x)]));
  };
  const secretArn = (id: string) => `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${generated(stack, id, 256)}-AbCdEf`;
  const size = (doc: any) => JSON.stringify(resolve(doc)).replace(/\s/g, '').length;

  const inlineByRole = new Map<string, number>();
  const out: PolicySize[] = [];
  for (const [id, r] of Object.entries(resources)) {
    if (r.Type === 'AWS::IAM::Policy') {
      for (const role of r.Properties.Roles ?? []) {
        const key = role.Ref ?? JSON.stringify(role);
        inlineByRole.set(key, (inlineByRole.get(key) ?? 0) + size(r.Properties.PolicyDocument));
      }
    }
    if (r.Type === 'AWS::IAM::ManagedPolicy') {
      out.push({ name: id, kind: 'managed', size: size(r.Properties.PolicyDocument), limit: 6_144 });
    }
  }
  for (const [role, total] of inlineByRole) out.push({ name: `${role} (all inline policies)`, kind: 'inline', size: total, limit: 10_240 });
  return out;
}
