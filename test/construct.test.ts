import { App, CfnParameter, CfnResource, Duration, Fn, RemovalPolicy, Stack, Tags } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { CredentialKind, CredentialService, CredentialStatus, ServiceSpecificCredential, ServiceSpecificCredentialProps } from '../src';
import { policyDocuments } from './bench/policies';
import { RESOURCE_TYPE } from '../src/handler-contract';

const CR = 'Custom::ServiceSpecificCredential';

function setup(props: Partial<ServiceSpecificCredentialProps> = {}) {
  const app = new App();
  const stack = new Stack(app, 'Stack', { env: { account: '123456789012', region: 'us-east-1' } });
  const user = new iam.User(stack, 'User');
  const credential = new ServiceSpecificCredential(stack, 'Credential', { user, service: CredentialService.CODECOMMIT, ...props });
  return { app, stack, user, credential, template: () => Template.fromStack(stack) };
}

const userRef = (stack: Stack, user: iam.User) => ({ Ref: stack.getLogicalId(user.node.defaultChild as iam.CfnUser) });

describe('the custom resource', () => {
  test('gets the user, the service, the secret and the defaults', () => {
    const { stack, user, template } = setup();

    template().hasResourceProperties(CR, {
      UserName: userRef(stack, user),
      ServiceName: 'codecommit.amazonaws.com',
      Status: 'Active',
      SecretArn: { Ref: Match.stringLikeRegexp('^CredentialSecret') },
      ResetSerial: '0',
      CredentialAgeDays: Match.absent(),
    });
  });

  test('passes status, resetSerial and expiresAfter as CloudFormation strings', () => {
    const { template } = setup({
      service: CredentialService.BEDROCK, status: CredentialStatus.INACTIVE, resetSerial: 3, expiresAfter: Duration.days(30),
    });

    template().hasResourceProperties(CR, { Status: 'Inactive', ResetSerial: '3', CredentialAgeDays: '30', ServiceName: 'bedrock.amazonaws.com' });
  });

  test('has no property that could carry a secret value', () => {
    const { template } = setup();

    const [resource] = Object.values(template().findResources(CR));
    expect(Object.keys(resource.Properties).sort()).toEqual(['ResetSerial', 'SecretArn', 'ServiceName', 'ServiceToken', 'Status', 'UserName']);
    expect(template().toJSON().Outputs).toBeUndefined();
  });

  test('the secret is generated at deploy time, never written into the template', () => {
    const { template } = setup();

    template().hasResourceProperties('AWS::SecretsManager::Secret', { GenerateSecretString: {}, SecretString: Match.absent() });
  });

  test('is ordered after the policies that let the handler act: its user\'s directly, the role\'s through the function', () => {
    const { template } = setup();

    const [resource] = Object.values(template().findResources(CR));
    const [managed] = Object.keys(template().findResources('AWS::IAM::ManagedPolicy'));
    const [inline] = Object.keys(template().findResources('AWS::IAM::Policy'));
    const [fnId, fn] = Object.entries(template().findResources('AWS::Lambda::Function'))[0];
    expect(resource.DependsOn).toContain(managed);
    expect(resource.Properties.ServiceToken).toEqual({ 'Fn::GetAtt': [fnId, 'Arn'] });
    expect(fn.DependsOn).toContain(inline);
  });
});

describe('attributes', () => {
  test('resolve to the custom resource\'s id and answer, so readers depend on the credential', () => {
    const { stack, credential } = setup();
    const cr = stack.getLogicalId(credential.node.findChild('Resource').node.defaultChild as any);

    expect(stack.resolve(credential.serviceSpecificCredentialId)).toEqual({ Ref: cr });
    for (const [value, attr] of [
      [credential.serviceUserName, 'ServiceUserName'],
      [credential.serviceCredentialAlias, 'ServiceCredentialAlias'],
      [credential.expirationDate, 'ExpirationDate'],
      [credential.secretArn, 'SecretArn'],
      [credential.secret.secretArn, 'SecretArn'],
    ]) {
      expect(stack.resolve(value)).toEqual({ 'Fn::GetAtt': [cr, attr] });
    }
  });
});

describe('the service', () => {
  test.each([
    ['CODECOMMIT', CredentialService.CODECOMMIT, 'codecommit.amazonaws.com', CredentialKind.PASSWORD],
    ['KEYSPACES', CredentialService.KEYSPACES, 'cassandra.amazonaws.com', CredentialKind.PASSWORD],
    ['BEDROCK', CredentialService.BEDROCK, 'bedrock.amazonaws.com', CredentialKind.API_KEY],
    ['CLOUDWATCH_LOGS', CredentialService.CLOUDWATCH_LOGS, 'logs.amazonaws.com', CredentialKind.API_KEY],
    ['CLOUDWATCH', CredentialService.CLOUDWATCH, 'cloudwatch.amazonaws.com', CredentialKind.API_KEY],
  ])('%s maps to its IAM service name and kind', (_, service, name, kind) => {
    expect(service.serviceName).toBe(name);
    expect(service.kind).toBe(kind);
  });

  test('of() returns the constant for a known name and passes a new one through', () => {
    expect(CredentialService.of('bedrock.amazonaws.com')).toBe(CredentialService.BEDROCK);
    expect(CredentialService.of('new.amazonaws.com')).toMatchObject({ serviceName: 'new.amazonaws.com', kind: CredentialKind.API_KEY });
    expect(CredentialService.of('new.amazonaws.com', CredentialKind.PASSWORD).supportsExpiry).toBe(false);
  });

  test('of() rejects a name IAM would reject, naming it', () => {
    expect(() => CredentialService.of('bad name!')).toThrow(/'bad name!'/);
  });
});

describe('the handler', () => {
  test('is one Lambda per stack, on a current Node.js runtime, with the longest timeout Lambda allows, 15 minutes', () => {
    const { stack, user, template } = setup();
    new ServiceSpecificCredential(stack, 'Second', { user, service: CredentialService.BEDROCK });
    const other = new Stack(stack.node.root as App, 'Other');
    new ServiceSpecificCredential(other, 'Third', { user: iam.User.fromUserName(other, 'U', 'bob'), service: CredentialService.KEYSPACES });

    template().resourceCountIs('AWS::Lambda::Function', 1);
    template().hasResourceProperties('AWS::Lambda::Function', { Runtime: Match.stringLikeRegexp('^nodejs(2[2-9]|[3-9]\\d)\\.x$'), Timeout: 900 });
    Template.fromStack(other).resourceCountIs('AWS::Lambda::Function', 1);
  });

  test('has no AWS managed policy, and acts on credentials of its users only', () => {
    const { stack, user, template } = setup();

    template().hasResourceProperties('AWS::IAM::Role', { ManagedPolicyArns: Match.absent() });
    template().hasResourceProperties('AWS::IAM::ManagedPolicy', {
      PolicyDocument: {
        Statement: [{
          Action: ['iam:CreateServiceSpecificCredential', 'iam:ResetServiceSpecificCredential', 'iam:UpdateServiceSpecificCredential'],
          Effect: 'Allow',
          Resource: { 'Fn::GetAtt': [userRef(stack, user).Ref, 'Arn'] },
        }],
      },
    });
  });

  test('may delete and list, which reveal no secret, on any user: the cleanup of a replaced user runs after the policy update', () => {
    const { template } = setup();

    template().hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([{
          Action: ['iam:DeleteServiceSpecificCredential', 'iam:ListServiceSpecificCredentials'],
          Effect: 'Allow',
          Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::123456789012:user/*']] },
        }]),
      },
    });
  });

  test('reads and writes secrets only where they carry this stack\'s tag and CloudFormation\'s, as the credential\'s secret does', () => {
    const { template } = setup();

    template().hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({
          Action: ['secretsmanager:PutSecretValue', 'secretsmanager:GetSecretValue', 'secretsmanager:UpdateSecretVersionStage'],
          Condition: Match.objectEquals({
            StringEquals: {
              'aws:ResourceTag/cdk-service-specific-credential': { Ref: 'AWS::StackId' },
              'aws:ResourceTag/aws:cloudformation:stack-id': { Ref: 'AWS::StackId' },
            },
          }),
        })]),
      },
    });
    template().hasResourceProperties('AWS::SecretsManager::Secret', {
      Tags: [{ Key: 'cdk-service-specific-credential', Value: { Ref: 'AWS::StackId' } }],
    });
  });

  test('knows its own stack, so that it can refuse events from any other', () => {
    const { template } = setup();

    template().hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: { STACK_ID: { Ref: 'AWS::StackId' } } } });
  });

  test('packs users into managed policies by the length of their real path: 45 users with 100-character paths fit', () => {
    const app = new App();
    const stack = new Stack(app, 'Credentials', { env: { account: '123456789012', region: 'us-east-1' } });
    const path = `/${'team/'.repeat(19)}xxx/`;
    expect(path).toHaveLength(100);
    for (let i = 0; i < 45; i++) {
      // No userName: CloudFormation generates one of up to 64 characters.
      const user = new iam.User(stack, `User${i}`, { path });
      new ServiceSpecificCredential(stack, `Git${i}`, { user, service: CredentialService.CODECOMMIT });
    }

    const template = app.synth().getStackByName('Credentials').template;
    const docs = policyDocuments(template);
    for (const doc of docs) expect(doc.size).toBeLessThanOrEqual(doc.limit);
    expect(docs.filter((d) => d.kind === 'managed').length).toBeGreaterThan(1);
  });

  test('more users than 10 managed policies can name fail at synth, naming the user and the remedy', () => {
    const app = new App();
    const stack = new Stack(app, 'Credentials', { env: { account: '123456789012', region: 'us-east-1' } });
    const path = `/${'p'.repeat(510)}/`;
    const add = (i: number) => new ServiceSpecificCredential(stack, `Git${i}`, {
      user: new iam.User(stack, `User${i}`, { path, userName: `u${i}` }),
      service: CredentialService.CODECOMMIT,
    });
    // 556 characters per ARN: 10 to a policy.
    for (let i = 0; i < 100; i++) add(i);

    expect(() => add(100)).toThrow(/100 users fill IAM's 10 managed policies per role \(user Credentials\/User100 is one too many\).*another stack/);
  });
});

describe('hundreds of credentials in one stack', () => {
  test('reach the handler at most 10 at once: each custom resource waits for the one 10 places before it', () => {
    const { stack } = setup();
    for (let i = 0; i < 25; i++) {
      new ServiceSpecificCredential(stack, `Git${i}`, { user: iam.User.fromUserName(stack, `U${i}`, `user-${i}`), service: CredentialService.CODECOMMIT });
    }
    const resources = Template.fromStack(stack).findResources(RESOURCE_TYPE);
    const ids = Object.keys(resources);
    const credentialsBefore = (id: string) => (resources[id].DependsOn ?? []).filter((d: string) => d in resources);
    // setup() made one credential first: 26 in all.
    expect(ids).toHaveLength(26);
    ids.forEach((id, i) => expect(credentialsBefore(id)).toEqual(i < 10 ? [] : [ids[i - 10]]));
  });

  test('a reference written as Fn::Sub, or a dependency added before synthesizing again, closes no cycle either', () => {
    const { app, stack } = setup();
    const credentials = Array.from({ length: 12 }, (_, i) =>
      new ServiceSpecificCredential(stack, `Git${i}`, { user: iam.User.fromUserName(stack, `U${i}`, `user-${i}`), service: CredentialService.CODECOMMIT }));
    const resource = (c: ServiceSpecificCredential) => c.node.findChild('Resource').node.defaultChild as CfnResource;
    // After setup()'s credential, Git10 follows Git0 in its lane (10 places before it) and Git11 follows Git1.
    // Set as the property: the lanes read what aws-cdk-lib's public API shows, which a raw override is not.
    const secret = credentials[0].node.findChild('Secret').node.defaultChild as secretsmanager.CfnSecret;
    secret.description = Fn.sub(`for \${${stack.getLogicalId(resource(credentials[10]))}.ServiceUserName}`);
    expect(() => Template.fromJSON(app.synth().getStackByName(stack.stackName).template)).not.toThrow();

    resource(credentials[1]).addDependency(resource(credentials[11]));
    expect(() => Template.fromJSON(app.synth({ force: true }).getStackByName(stack.stackName).template)).not.toThrow();
  });

  test('an app whose earlier credentials depend on later ones gets no lane that closes a cycle', () => {
    const { stack } = setup();
    const siteA = new Construct(stack, 'SiteA');
    const siteB = new Construct(stack, 'SiteB');
    const credential = (scope: Construct, i: number) =>
      new ServiceSpecificCredential(scope, `Git${i}`, { user: iam.User.fromUserName(scope, `U${i}`, `user-${i}`), service: CredentialService.CODECOMMIT });
    credential(siteA, 0);
    for (let i = 1; i <= 12; i++) credential(siteB, i);
    siteA.node.addDependency(siteB);

    // aws-cdk-lib's assertions refuse a template with a cycle, as CloudFormation does ("Template is undeployable").
    const resources = Template.fromStack(stack).findResources(RESOURCE_TYPE);
    // The lanes that close no cycle are kept.
    const laned = Object.values<any>(resources).filter((r) => (r.DependsOn ?? []).some((d: string) => d in resources && !d.startsWith('SiteB')));
    expect(laned.length).toBeGreaterThan(0);
  });

  test('a reference from an earlier credential\'s secret to a later credential closes no cycle either', () => {
    const { stack } = setup();
    const credential = (i: number) =>
      new ServiceSpecificCredential(stack, `Git${i}`, { user: iam.User.fromUserName(stack, `U${i}`, `user-${i}`), service: CredentialService.CODECOMMIT });
    const first = credential(0);
    const later = Array.from({ length: 12 }, (_, i) => credential(i + 1));
    // The first secret's tag names a later credential's Git user name: CloudFormation orders the secret after it.
    Tags.of(first).add('git-user-of-build', later[9].serviceUserName);

    expect(() => Template.fromStack(stack)).not.toThrow();
  });
});

describe('the secret', () => {
  test('uses the given key and name', () => {
    const app = new App();
    const stack = new Stack(app, 'Stack');
    const key = new kms.Key(stack, 'Key');
    new ServiceSpecificCredential(stack, 'C', { user: new iam.User(stack, 'U'), service: CredentialService.CODECOMMIT, encryptionKey: key, secretName: 'ci/git' });

    Template.fromStack(stack).hasResourceProperties('AWS::SecretsManager::Secret', {
      Name: 'ci/git',
      KmsKeyId: { 'Fn::GetAtt': [stack.getLogicalId(key.node.defaultChild as kms.CfnKey), 'Arn'] },
    });
  });

  test('with a key, the handler may encrypt through Secrets Manager only', () => {
    const app = new App();
    const stack = new Stack(app, 'Stack');
    const key = new kms.Key(stack, 'Key');
    new ServiceSpecificCredential(stack, 'C', { user: new iam.User(stack, 'U'), service: CredentialService.CODECOMMIT, encryptionKey: key });

    Template.fromStack(stack).hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([Match.objectLike({
          Action: Match.arrayWith(['kms:Decrypt', 'kms:Encrypt']),
          Condition: { StringEquals: { 'kms:ViaService': { 'Fn::Join': ['', ['secretsmanager.', { Ref: 'AWS::Region' }, '.amazonaws.com']] } } },
        })]),
      },
    });
  });

  test('grantRead gives GetSecretValue on the ARN the credential answers, and decrypt on the key', () => {
    const app = new App();
    const stack = new Stack(app, 'Stack');
    const key = new kms.Key(stack, 'Key');
    const credential = new ServiceSpecificCredential(stack, 'C', { user: new iam.User(stack, 'U'), service: CredentialService.CODECOMMIT, encryptionKey: key });
    const reader = new iam.Role(stack, 'Reader', { assumedBy: new iam.AccountRootPrincipal() });

    credential.grantRead(reader);

    const cr = stack.getLogicalId(credential.node.findChild('Resource').node.defaultChild as any);
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: stack.getLogicalId(reader.node.defaultChild as iam.CfnRole) }],
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({
          Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
          Resource: { 'Fn::GetAtt': [cr, 'SecretArn'] },
        })]),
      },
    });
    Template.fromStack(stack).hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: { Statement: Match.arrayWith([Match.objectLike({ Action: 'kms:Decrypt', Principal: { AWS: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Reader'), 'Arn'] } } })]) },
    });
  });
});

describe('synth-time validation', () => {
  test.each([['CODECOMMIT', CredentialService.CODECOMMIT], ['KEYSPACES', CredentialService.KEYSPACES]])('expiresAfter on %s names the service', (_, service) => {
    expect(() => setup({ service, expiresAfter: Duration.days(30) })).toThrow(new RegExp(service.serviceName.replace(/\./g, '\\.')));
  });

  test.each([
    [Duration.hours(36), /whole number of days, got 1 day 12 hours/],
    [Duration.days(0), /between 1 and 36600 days, got 0 days/],
    [Duration.days(36601), /between 1 and 36600 days, got 36601 days/],
  ])('expiresAfter %s is rejected with the bad value', (expiresAfter, message) => {
    expect(() => setup({ service: CredentialService.BEDROCK, expiresAfter })).toThrow(message);
  });

  test('a third credential for the same user and service names the user and the two that exist', () => {
    const { stack, user } = setup();
    new ServiceSpecificCredential(stack, 'Second', { user, service: CredentialService.CODECOMMIT });

    expect(() => new ServiceSpecificCredential(stack, 'Third', { user, service: CredentialService.CODECOMMIT }))
      .toThrow(/Stack\/User.*Stack\/Credential and Stack\/Second.*no room to replace/);
    expect(() => new ServiceSpecificCredential(stack, 'OtherService', { user, service: CredentialService.KEYSPACES })).not.toThrow();
  });

  test('a second credential for the same user and service warns that neither can be replaced', () => {
    const { stack, user } = setup();
    new ServiceSpecificCredential(stack, 'Second', { user, service: CredentialService.CODECOMMIT });

    Annotations.fromStack(stack).hasWarning('/Stack/Second', Match.stringLikeRegexp('2 credentials for codecommit.amazonaws.com.*replacement'));
    Annotations.fromStack(stack).hasNoWarning('/Stack/Credential', Match.anyValue());
  });

  test('the same literal user name imported twice counts as one user', () => {
    const app = new App();
    const stack = new Stack(app, 'Stack');
    new ServiceSpecificCredential(stack, 'A', { user: iam.User.fromUserName(stack, 'U1', 'alice'), service: CredentialService.BEDROCK });
    new ServiceSpecificCredential(stack, 'B', { user: iam.User.fromUserName(stack, 'U2', 'alice'), service: CredentialService.BEDROCK });

    expect(() => new ServiceSpecificCredential(stack, 'C', { user: iam.User.fromUserName(stack, 'U3', 'alice'), service: CredentialService.BEDROCK }))
      .toThrow(/'alice'/);
  });

  test('an invalid literal user name is named', () => {
    const app = new App();
    const stack = new Stack(app, 'Stack');

    expect(() => new ServiceSpecificCredential(stack, 'C', { user: iam.User.fromUserName(stack, 'U', 'bad name!'), service: CredentialService.CODECOMMIT }))
      .toThrow(/'bad name!'/);
  });

  test.each([-1, 1.5])('resetSerial %s is rejected with the bad value', (resetSerial) => {
    expect(() => setup({ resetSerial })).toThrow(new RegExp(`got ${resetSerial}`));
  });

  test('tokens are left to deploy time', () => {
    const app = new App();
    const stack = new Stack(app, 'Stack');
    const name = new CfnParameter(stack, 'UserName').valueAsString;
    const days = new CfnParameter(stack, 'Days', { type: 'Number' }).valueAsNumber;

    expect(() => new ServiceSpecificCredential(stack, 'C', {
      user: iam.User.fromUserName(stack, 'U', name),
      service: CredentialService.BEDROCK,
      expiresAfter: Duration.days(days),
      resetSerial: new CfnParameter(stack, 'Serial', { type: 'Number' }).valueAsNumber,
    })).not.toThrow();
  });
});

describe('bad input from languages without a compiler is named at synth, with the construct', () => {
  const stackWithUser = () => {
    const stack = new Stack(new App(), 'Stack');
    return { stack, user: new iam.User(stack, 'User') };
  };

  test.each([['inactive'], [false], ['ACTIVE']])('status %j', (status) => {
    const { stack, user } = stackWithUser();

    expect(() => new ServiceSpecificCredential(stack, 'C', { user, service: CredentialService.CODECOMMIT, status: status as any }))
      .toThrow(new RegExp(`^Stack/C: status must be CredentialStatus.ACTIVE .* got ${JSON.stringify(status)}$`));
  });

  test('a plain string for service', () => {
    const { stack, user } = stackWithUser();

    expect(() => new ServiceSpecificCredential(stack, 'C', { user, service: 'bedrock.amazonaws.com' as any }))
      .toThrow(/^Stack\/C: service must be a CredentialService.*got "bedrock.amazonaws.com"$/);
  });

  test('a known service with another kind, which would let an expiry onto a password', () => {
    expect(() => CredentialService.of('codecommit.amazonaws.com', CredentialKind.API_KEY)).toThrow(/issues passwords \(CredentialKind.PASSWORD\)/);
  });

  test('an unknown service warns, naming the closest known one', () => {
    const { stack, user } = stackWithUser();

    new ServiceSpecificCredential(stack, 'C', { user, service: CredentialService.of('bedrok.amazonaws.com'), expiresAfter: Duration.days(30) });

    Annotations.fromStack(stack).hasWarning('/Stack/C', Match.stringLikeRegexp("'bedrok.amazonaws.com' is none .* closest is 'bedrock.amazonaws.com'"));
  });

  test('an API key with neither expiresAfter nor rotation warns that it never expires; one with either does not', () => {
    const { stack, user } = stackWithUser();

    new ServiceSpecificCredential(stack, 'Forever', { user, service: CredentialService.BEDROCK });
    new ServiceSpecificCredential(stack, 'Expiring', { user: new iam.User(stack, 'Other'), service: CredentialService.BEDROCK, expiresAfter: Duration.days(90) });
    new ServiceSpecificCredential(stack, 'Rotated', {
      user: new iam.User(stack, 'Third'), service: CredentialService.BEDROCK, rotation: { automaticallyAfter: Duration.days(30) },
    });

    Annotations.fromStack(stack).hasWarning('/Stack/Forever', Match.stringLikeRegexp('never expires'));
    Annotations.fromStack(stack).hasNoWarning('/Stack/Expiring', Match.stringLikeRegexp('never expires'));
    Annotations.fromStack(stack).hasNoWarning('/Stack/Rotated', Match.anyValue());
  });

  test.each([['ci git!'], ['x'.repeat(513)]])('a secretName Secrets Manager rejects: %s', (secretName) => {
    const { stack, user } = stackWithUser();

    expect(() => new ServiceSpecificCredential(stack, 'C', { user, service: CredentialService.CODECOMMIT, secretName }))
      .toThrow(/^Stack\/C: Invalid secretName/);
  });

  test('the same secretName twice in a stack names the first', () => {
    const { stack, user } = stackWithUser();
    new ServiceSpecificCredential(stack, 'A', { user, service: CredentialService.CODECOMMIT, secretName: 'ci/git' });

    expect(() => new ServiceSpecificCredential(stack, 'B', { user, service: CredentialService.KEYSPACES, secretName: 'ci/git' }))
      .toThrow("Stack/B: secretName 'ci/git' is already the secret of Stack/A");
  });

  test('a user given as a User with a userName and again by that name counts as one user', () => {
    const stack = new Stack(new App(), 'Stack');
    const user = new iam.User(stack, 'Bot', { userName: 'ci-bot' });
    new ServiceSpecificCredential(stack, 'A', { user, service: CredentialService.CODECOMMIT });
    new ServiceSpecificCredential(stack, 'B', { user: iam.User.fromUserName(stack, 'Again', 'ci-bot'), service: CredentialService.CODECOMMIT });

    expect(() => new ServiceSpecificCredential(stack, 'C', { user, service: CredentialService.CODECOMMIT }))
      .toThrow(/^Stack\/C: IAM allows at most 2 .* user 'ci-bot' already has Stack\/A and Stack\/B/);
  });
});

describe('removalPolicy', () => {
  const stackWithUser = () => {
    const stack = new Stack(new App(), 'Stack');
    return { stack, user: new iam.User(stack, 'User') };
  };

  test('RETAIN sets DeletionPolicy Retain on the credential and its secret, and leaves replacement to delete', () => {
    const { stack, user } = stackWithUser();
    new ServiceSpecificCredential(stack, 'C', { user, service: CredentialService.CODECOMMIT, removalPolicy: RemovalPolicy.RETAIN });
    const template = Template.fromStack(stack);

    for (const type of ['Custom::ServiceSpecificCredential', 'AWS::SecretsManager::Secret']) {
      const [resource] = Object.values<any>(template.findResources(type));
      expect(resource.DeletionPolicy).toBe('Retain');
      expect(resource.UpdateReplacePolicy).not.toBe('Retain');
    }
  });

  test.each([[RemovalPolicy.SNAPSHOT], ['Retain']])('%s is refused, naming the value', (removalPolicy) => {
    const { stack, user } = stackWithUser();
    expect(() => new ServiceSpecificCredential(stack, 'C', { user, service: CredentialService.CODECOMMIT, removalPolicy: removalPolicy as RemovalPolicy }))
      .toThrow(/^Stack\/C: removalPolicy must be RemovalPolicy.DESTROY or RemovalPolicy.RETAIN .* got "(snapshot|Retain)"/);
  });
});
