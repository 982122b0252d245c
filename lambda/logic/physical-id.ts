// The physical id CloudFormation knows a credential resource by: its first credential's IAM id, which rotations and
// reissues keep, or an id that names no credential at all.

/** IAM's pattern for credential ids; any other physical id (e.g. from a failed CREATE) names no credential. */
export function isCredentialId(id: string | undefined): id is string {
  return id !== undefined && /^\w{20,128}$/.test(id);
}

/** A failed CREATE gets an id that names no credential, so the DELETE CloudFormation sends next touches nothing. */
export function failedCreateId(requestId: string): string {
  return `failed-create-${requestId}`;
}
