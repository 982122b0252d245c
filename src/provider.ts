import * as path from 'node:path';
import { Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

/**
 * The handler Lambda, one per stack and runtime, shared by every credential in the stack.
 * Not exported: users see only its effects (one function, one role).
 */
export class CredentialProvider extends Construct {
  /** The stack's provider for the runtime CDK picks for it, created on first use. */
  public static of(scope: Construct): CredentialProvider {
    const stack = Stack.of(scope);
    const runtime = lambda.determineLatestNodeRuntime(stack);
    // Keyed by every setting that changes the function, so two settings never share one function.
    const id = `ServiceSpecificCredentialProvider${runtime.name.replace(/\W/g, '')}`;
    return (stack.node.tryFindChild(id) as CredentialProvider | undefined) ?? new CredentialProvider(stack, id, runtime);
  }

  public readonly role: iam.Role;
  public readonly function: lambda.Function;

  private constructor(scope: Construct, id: string, runtime: lambda.Runtime) {
    super(scope, id);
    // An own role with exactly these grants, instead of the AWSLambdaBasicExecutionRole managed policy.
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Creates, resets and deletes IAM service-specific credentials and stores them in Secrets Manager',
    });
    const logGroup = new logs.LogGroup(this, 'Logs', { retention: logs.RetentionDays.ONE_YEAR });
    logGroup.grantWrite(this.role);
    this.function = new lambda.Function(this, 'Handler', {
      runtime,
      handler: 'index.handler',
      code: lambda.Code.fromAsset(path.join(__dirname, '..', 'assets', 'lambda', 'handler')),
      role: this.role,
      logGroup,
      // IAM may need ~2 minutes to see a user or policy made in the same deployment; the handler answers
      // CloudFormation 15 seconds before this timeout whatever happens.
      timeout: Duration.minutes(5),
      memorySize: 256,
      description: 'cdk-service-specific-credential: custom resource handler for IAM service-specific credentials',
    });
  }

  /** Lets the handler manage credentials of this user and write them into this secret, nothing else. */
  public allow(user: iam.IUser, secret: secretsmanager.ISecret): void {
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: [
        'iam:CreateServiceSpecificCredential',
        'iam:ResetServiceSpecificCredential',
        'iam:UpdateServiceSpecificCredential',
        'iam:DeleteServiceSpecificCredential',
        'iam:ListServiceSpecificCredentials',
      ],
      resources: [user.userArn],
    }));
    // GetSecretValue only reads back this handler's own earlier write when an event is delivered twice.
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['secretsmanager:PutSecretValue', 'secretsmanager:GetSecretValue'],
      resources: [secret.secretArn],
    }));
    secret.encryptionKey?.grantEncryptDecrypt(
      new kms.ViaServicePrincipal(`secretsmanager.${Stack.of(this).region}.amazonaws.com`, this.role),
    );
  }
}
