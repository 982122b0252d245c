// The fixed parts of the reasons the handler gives, as a user reads them: tests assert whole reasons against these.

export const RETRY = 'Retry the deployment; \'aws iam list-service-specific-credentials\' shows any credential left behind';

export const DENIED_HINT = 'IAM kept denying access: check service control policies, permissions boundaries and KMS key policies '
  + '(a customer managed key\'s policy must let the handler\'s role use it through Secrets Manager). '
  + 'An IAM user with a path must be given as iam.User.fromUserArn: User.fromUserName assumes the path /, '
  + 'so the handler\'s policy names the wrong ARN.';

export const SECRETS_HINT = 'Secrets Manager denied the handler\'s role its own secret, most often because KMS denied the secret\'s key: '
  + 'its key policy must allow the handler\'s role kms:GenerateDataKey and kms:Decrypt, by naming the role or by letting this '
  + 'account\'s IAM policies allow them (as a key\'s default policy does). A key of another account must name the role or '
  + 'this account. A key given as an alias must carry that alias (a new alias takes up to 5 minutes to count). Otherwise a '
  + 'service control policy or permissions boundary denies the secretsmanager: or kms: action.';

/** Text to match literally inside a regular expression. */
export const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** What a Create that a policy denied explicitly says after AWS's message: the condition keys and the fix. */
export const CREATE_DENIED_FIX = 'A service control policy or permissions boundary may limit iam:ServiceSpecificCredentialAgeDays (set expiresAfter '
  + 'within the age it allows; a credential without expiresAfter exceeds any limit) or iam:ServiceSpecificCredentialServiceName (use a service '
  + 'it allows). Nothing was created';

/** The end of the reason for any other call a policy denied explicitly. */
export const EXPLICIT_DENY_FIX = 'Change the policy AWS names, or what the handler asks of it, then retry';
