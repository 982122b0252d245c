import {
  CfnResource, DefaultTokenResolver, IPostProcessor, IResolvable, IResolveContext, Lazy, Reference, Stack, StringConcat,
  Token, Tokenization, TreeInspector,
} from 'aws-cdk-lib';

/** How many credentials of one stack CloudFormation creates, updates or deletes at once. */
export const CONCURRENT_CREDENTIALS = 10;

/**
 * The stack's credentials in lanes: each credential's custom resource waits for the one CONCURRENT_CREDENTIALS places
 * before it, so that CloudFormation sends at most that many of this stack's events to the handler at once, creating,
 * updating or deleting. IAM's rate is the account's: hundreds of events at once only throttle each other (and every
 * other IAM caller) while the earliest wait the longest, and more at once does not make IAM any faster.
 *
 * A link that would close a cycle with the app's own ordering (an earlier credential that depends on, or refers to,
 * a later one) is left out: CloudFormation would refuse the template ("Circular dependency between resources").
 *
 * The links are not added to the construct tree. They are rendered into each custom resource's `DependsOn` when the
 * template is written, the one moment at which the app's ordering is final (every aspect applied, every construct
 * dependency turned into a resource dependency), and formed afresh for each synthesis.
 */
export class Lanes {
  private readonly queue: CfnResource[] = [];
  /** What each credential's custom resource refers to in its properties, which only the construct can read. */
  private readonly references = new Map<CfnResource, CfnResource[]>();
  /** The links of the current synthesis: a custom resource and the one it waits for. */
  private links?: Map<CfnResource, CfnResource>;
  private linkedQueueLength = 0;
  /** The custom resources rendered since the links were formed. */
  private readonly rendered = new Set<CfnResource>();

  constructor(private readonly stack: Stack) {}

  /** Adds a credential's custom resource at the end of the queue. */
  public add(resource: CfnResource, references: CfnResource[]): void {
    this.references.set(resource, references);
    if (this.queue.push(resource) <= CONCURRENT_CREDENTIALS) return; // the first of its lane: it waits for none
    resource.addOverride('DependsOn', Lazy.uncachedList({ produce: (context) => this.dependsOn(resource, context) }));
  }

  /** The resource's `DependsOn` as aws-cdk-lib renders it (sorted by construct path), with its lane's link. */
  private dependsOn(resource: CfnResource, context: IResolveContext): string[] | undefined {
    // aws-cdk-lib resolves every resource once more, before validation, to find references between stacks: DependsOn
    // holds none, and the links need not be formed for it.
    if (context.preparing) return undefined;
    // A synthesis renders each custom resource once: one rendered again is a new synthesis, of an app that may have
    // changed since (a dependency added, a credential added).
    if (!this.links || this.rendered.has(resource) || this.linkedQueueLength !== this.queue.length) {
      this.links = this.formLinks();
      this.linkedQueueLength = this.queue.length;
      this.rendered.clear();
    }
    this.rendered.add(resource);
    const before = this.links.get(resource);
    const dependencies = [...resource.obtainResourceDependencies(), ...before ? [before] : []];
    return dependencies.sort((a, b) => a.node.path.localeCompare(b.node.path)).map((r) => r.logicalId);
  }

  private formLinks(): Map<CfnResource, CfnResource> {
    const graph = new ResourceGraph(this.stack, this.references);
    const links = new Map<CfnResource, CfnResource>();
    /** Whether `from` waits for `to` through the app's ordering and the links made so far. */
    const waits = (from: CfnResource, to: CfnResource): boolean => {
      const seen = new Set([from]);
      const todo = [from];
      for (let r = todo.pop(); r; r = todo.pop()) {
        const link = links.get(r);
        for (const next of link ? [...graph.credentialsBefore(r), link] : graph.credentialsBefore(r)) {
          if (next === to) return true;
          if (!seen.has(next)) {
            seen.add(next);
            todo.push(next);
          }
        }
      }
      return false;
    };
    const lanes: CfnResource[] = [];
    this.queue.forEach((resource, i) => {
      const before = lanes[i % CONCURRENT_CREDENTIALS];
      if (before && !resource.obtainResourceDependencies().includes(before) && !waits(before, resource)) links.set(resource, before);
      // Nothing waits for a credential that may not be in the template: removed from the tree, or under a condition.
      if (inTree(resource) && !resource.cfnOptions.condition) lanes[i % CONCURRENT_CREDENTIALS] = resource;
    });
    return links;
  }
}

/**
 * What each resource of a stack waits for in CloudFormation, as far as aws-cdk-lib's public API shows it: its
 * `DependsOn`, and the `Ref`, `Fn::GetAtt` and `Fn::Sub` in the properties of a resource class generated from the
 * CloudFormation specification. A plain `CfnResource` other than a credential's (aws-cdk-lib's `CustomResource`) is
 * taken to wait for every credential. Not seen: raw overrides (`addOverride`, `addPropertyOverride`).
 */
class ResourceGraph {
  private byLogicalId?: Map<string, CfnResource>;
  /** For each resource visited, the credentials (their custom resources) it waits for, directly or through others. */
  private readonly before = new Map<CfnResource, Set<CfnResource>>();
  /** What each token other than a reference refers to, once resolved. */
  private readonly resolved = new Map<IResolvable, Set<CfnResource>>();

  constructor(private readonly stack: Stack, private readonly credentials: Map<CfnResource, CfnResource[]>) {}

  public credentialsBefore(resource: CfnResource): Set<CfnResource> {
    let found = this.before.get(resource);
    if (found) return found;
    // A plain CfnResource (aws-cdk-lib's CustomResource, for one) shows its properties to no public API: it may refer
    // to any credential.
    if (!this.credentials.has(resource) && !generated(resource)) {
      this.before.set(resource, found = new Set(this.credentials.keys()));
      return found;
    }
    // A cycle of the app's own is CloudFormation's to refuse; here it only must not recurse forever.
    this.before.set(resource, NONE);
    for (const next of this.waitsFor(resource)) {
      const through = this.credentialsBefore(next);
      if (this.credentials.has(next) || through.size) {
        found ??= new Set();
        if (this.credentials.has(next)) found.add(next);
        through.forEach((c) => found!.add(c));
      }
    }
    this.before.set(resource, found ?? NONE);
    return found ?? NONE;
  }

  private waitsFor(resource: CfnResource): Set<CfnResource> {
    const waits = new Set(resource.obtainResourceDependencies());
    const known = this.credentials.get(resource);
    if (known) known.forEach((r) => waits.add(r));
    else this.referencesIn(inspectedProperties(resource), waits);
    return waits;
  }

  /**
   * What a value refers to, walked rather than resolved: a reference token by where it points, any other token by
   * what it resolves to (each token once: every credential's secret carries the same stack id token, for one).
   */
  private referencesIn(value: unknown, into: Set<CfnResource>): void {
    if (typeof value === 'string') {
      if (Token.isUnresolved(value)) Tokenization.reverseString(value).tokens.forEach((t) => this.referencesOf(t, into));
    } else if (typeof value === 'number') {
      const token = Tokenization.reverseNumber(value);
      if (token) this.referencesOf(token, into);
    } else if (Tokenization.isResolvable(value)) {
      this.referencesOf(value, into);
    } else if (Array.isArray(value)) {
      const token = Tokenization.reverseList(value);
      if (token) this.referencesOf(token, into);
      else value.forEach((v) => this.referencesIn(v, into));
    } else if (value && typeof value === 'object') {
      this.named(value, into);
      Object.values(value).forEach((v) => this.referencesIn(v, into));
    }
  }

  private referencesOf(token: IResolvable, into: Set<CfnResource>): void {
    if (token instanceof Reference) {
      if (CfnResource.isCfnResource(token.target) && Stack.of(token.target) === this.stack) into.add(token.target);
      return;
    }
    let found = this.resolved.get(token);
    if (!found) {
      found = new Set();
      this.resolved.set(token, found);
      // `preparing`, as aws-cdk-lib's own search for references resolves: this is a look, not the template.
      const value = Tokenization.resolve(token, { scope: this.stack, resolver: new FollowReferences(), preparing: true });
      this.referencesIn(value, found);
    }
    found.forEach((r) => into.add(r));
  }

  /** The resources an object names by logical id, written out (not a reference token), e.g. in an `Fn::Sub` template. */
  private named(value: object, into: Set<CfnResource>): void {
    const names = namesIn(value);
    if (!names.length) return;
    this.byLogicalId ??= new Map(this.stack.node.findAll()
      .filter((c): c is CfnResource => CfnResource.isCfnResource(c) && Stack.of(c) === this.stack)
      .map((r) => [this.stack.resolve(r.logicalId), r]));
    for (const name of names) {
      const resource = this.byLogicalId.get(Token.isUnresolved(name) ? this.stack.resolve(name) : name);
      if (resource) into.add(resource);
    }
  }
}

/** Resolves as aws-cdk-lib does, but leaves reference tokens in place, to be followed where they point. */
class FollowReferences extends DefaultTokenResolver {
  constructor() {
    super(new StringConcat());
  }

  public resolveToken(token: IResolvable, context: IResolveContext, postProcessor: IPostProcessor): unknown {
    return token instanceof Reference ? token : super.resolveToken(token, context, postProcessor);
  }
}

const NONE: Set<CfnResource> = new Set();

/** Whether the resource is still in the construct tree: an app may remove a construct after it was made. */
function inTree(resource: CfnResource): boolean {
  const scopes = resource.node.scopes;
  return scopes.every((scope, i) => i === 0 || scopes[i - 1].node.tryFindChild(scope.node.id) === scope);
}

type Inspectable = CfnResource & { inspect?: (inspector: TreeInspector) => void };

/** Whether the resource's class is generated from the CloudFormation specification: it shows its properties. */
function generated(resource: CfnResource): boolean {
  return typeof (resource as Inspectable).inspect === 'function';
}

/** The properties of a resource class generated from the CloudFormation specification, as `cdk synth`'s tree shows them. */
function inspectedProperties(resource: CfnResource): unknown {
  if (!generated(resource)) return undefined;
  const inspector = new TreeInspector();
  (resource as Inspectable).inspect!(inspector);
  return inspector.attributes['aws:cdk:cloudformation:props'];
}

/** The logical ids an object itself names: its `Ref`, its `Fn::GetAtt`, or those in its `Fn::Sub` template. */
function namesIn(node: object): string[] {
  const names: string[] = [];
  for (const [key, value] of Object.entries(node)) {
    if (key === 'Ref' && typeof value === 'string') {
      names.push(value);
    } else if (key === 'Fn::GetAtt') {
      names.push(String(Array.isArray(value) ? value[0] : value).split('.')[0]);
    } else if (key === 'Fn::Sub') {
      // ${Name} and ${Name.Attribute} refer to resources; ${!Literal} is text.
      for (const [, name] of String([value].flat()[0]).matchAll(/\$\{([^!][^}.]*)[^}]*\}/g)) names.push(name);
    }
  }
  return names.filter((name) => !name.startsWith('AWS::'));
}
