import { CfnResource } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/** One cdk-nag rule to suppress on one resource, with the reason it does not apply there. */
export interface NagSuppression {
  readonly id: string;
  readonly reason: string;
  /** The findings of the rule it covers (exactly, or matching an ECMA-262 regex); without it, every finding of the rule on the resource. */
  readonly applies_to?: Array<string | { readonly regex: string }>;
}

/**
 * A granular cdk-nag suppression as template metadata (what cdk-nag's `NagSuppressions` writes), so that the library
 * needs no dependency on cdk-nag and its users see no findings for what is deliberate.
 */
export function suppress(construct: IConstruct, rule: NagSuppression): void {
  const resource = CfnResource.isCfnResource(construct) ? construct : construct.node.defaultChild as CfnResource;
  const existing = resource.getMetadata('cdk_nag')?.rules_to_suppress ?? [];
  resource.addMetadata('cdk_nag', { rules_to_suppress: [...existing, rule] });
}
