import { fill, loadBaseline, type BaselineVars } from '../../functions/onboard-account/baseline';
import { packagedTemplate } from '../helpers/package-template';

/**
 * Least privilege, checked on what is deployed: every policy of the packaged template (roles,
 * bus, topic and queue policies) and of the member baseline. It fails on
 * - an Allow of "*" or "service:*" actions outside KMS key policies;
 * - an identity-policy write on Resource "*" that is not on the allow-list below, with AWS's reason;
 * - a trust or resource policy that lets another account in without an organization or role
 *   condition, or a service trust without the source account.
 * (In the integration project because it reads the template `osls package` generated, packaging
 * again when serverless.yml or infra/ changed.)
 */

type Statement = {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Principal?: unknown;
  Action?: string | string[];
  Resource?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
};
type Doc = { Statement: Statement[] };

interface Found {
  where: string;
  kind: 'identity' | 'resource' | 'trust' | 'key';
  doc: Doc;
}

/** Writes on "*" that AWS offers no resource-level scope for, with the reason. */
const WRITES_ON_ANY_RESOURCE: Readonly<Record<string, string>> = {};

const READ = /^(Get|List|Describe|BatchGet|Query|Scan|Lookup|Search|Head|View)/;

const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]);

function conditionKeys(s: Statement): string[] {
  return Object.values(s.Condition ?? {}).flatMap((block) =>
    Object.keys(block).map((k) => k.toLowerCase()),
  );
}

function templateDocs(): Found[] {
  const template = packagedTemplate();
  const out: Found[] = [];
  for (const [id, r] of Object.entries(template.Resources)) {
    const p = (r.Properties ?? {}) as Record<string, unknown>;
    switch (r.Type) {
      case 'AWS::IAM::Role':
        out.push({ where: `${id} trust`, kind: 'trust', doc: p.AssumeRolePolicyDocument as Doc });
        for (const policy of (p.Policies ?? []) as { PolicyName: string; PolicyDocument: Doc }[]) {
          out.push({
            where: `${id} ${policy.PolicyName}`,
            kind: 'identity',
            doc: policy.PolicyDocument,
          });
        }
        break;
      case 'AWS::Events::EventBus':
        if (p.Policy) {
          // Written as a JSON string (Fn::Sub) for the GovCloud and China specifications.
          const text = (p.Policy as { 'Fn::Sub'?: unknown })['Fn::Sub'];
          const doc = typeof text === 'string' ? (JSON.parse(text) as Doc) : (p.Policy as Doc);
          out.push({ where: `${id} policy`, kind: 'resource', doc });
        }
        break;
      case 'AWS::SNS::TopicPolicy':
      case 'AWS::SQS::QueuePolicy':
        out.push({ where: `${id}`, kind: 'resource', doc: p.PolicyDocument as Doc });
        break;
      case 'AWS::KMS::Key':
        out.push({ where: `${id}`, kind: 'key', doc: p.KeyPolicy as Doc });
        break;
      default:
        break;
    }
  }
  return out;
}

function baselineDocs(): Found[] {
  const vars: BaselineVars = {
    partition: 'aws',
    accountId: '222233334444',
    region: 'us-east-1',
    organizationId: 'o-exampleorg1',
    managementAccountId: '111122223333',
    centralBusArn: 'arn:aws:events:us-east-1:111122223333:event-bus/backup-events',
    controlPlaneRoleArn: 'arn:aws:iam::111122223333:role/onboard',
    watchRoleArn: 'arn:aws:iam::111122223333:role/watch',
  };
  const b = fill(loadBaseline(), vars);
  return [
    { where: 'baseline serviceRole trust', kind: 'trust', doc: b.serviceRole.trustPolicy as Doc },
    { where: 'baseline readOnlyRole trust', kind: 'trust', doc: b.readOnlyRole.trustPolicy as Doc },
    {
      where: 'baseline readOnlyRole policy',
      kind: 'identity',
      doc: b.readOnlyRole.inlinePolicy as Doc,
    },
    { where: 'baseline forwarder trust', kind: 'trust', doc: b.forwarding.role.trustPolicy as Doc },
    {
      where: 'baseline forwarder policy',
      kind: 'identity',
      doc: b.forwarding.role.inlinePolicy as Doc,
    },
    { where: 'baseline key policy', kind: 'key', doc: b.key.policy as Doc },
  ];
}

function problems(found: Found[]): string[] {
  const out: string[] = [];
  for (const f of found) {
    for (const s of f.doc.Statement) {
      if (s.Effect !== 'Allow') continue;
      const label = `${f.where}${s.Sid ? ` (${s.Sid})` : ''}`;
      const actions = list(s.Action).map(String);
      if (f.kind !== 'key') {
        for (const a of actions) {
          if (a === '*' || /:\*$/.test(a)) out.push(`${label}: allows ${a}`);
        }
      }
      if (f.kind === 'identity' && list(s.Resource).includes('*')) {
        for (const a of actions) {
          const verb = a.split(':')[1] ?? a;
          if (!READ.test(verb) && !WRITES_ON_ANY_RESOURCE[a]) {
            out.push(`${label}: write ${a} on Resource "*"`);
          }
        }
      }
      if (f.kind === 'trust' || f.kind === 'resource' || f.kind === 'key') {
        const principal = s.Principal as { AWS?: unknown; Service?: unknown } | string | undefined;
        const aws = typeof principal === 'string' ? [principal] : list(principal?.AWS);
        const services = typeof principal === 'string' ? [] : list(principal?.Service).map(String);
        const keys = conditionKeys(s);
        const scoped = keys.some((k) =>
          [
            'aws:principalorgid',
            'aws:principalarn',
            'aws:sourcearn',
            'aws:sourceaccount',
            'kms:calleraccount',
          ].includes(k),
        );
        // The policy's own account (the stack's, or the member's in the baseline) is not foreign.
        const ownAccountRoot = aws.every((a) =>
          /\$\{AWS::AccountId\}:root|:222233334444:root/.test(JSON.stringify(a)),
        );
        if (aws.length && !ownAccountRoot && !scoped) {
          out.push(
            `${label}: lets ${JSON.stringify(aws)} in without an organization or role condition`,
          );
        }
        const foreignService = services.filter(
          (svc) => !['lambda.amazonaws.com', 'backup.amazonaws.com'].includes(svc),
        );
        if (f.kind === 'trust' && foreignService.length && !keys.includes('aws:sourceaccount')) {
          out.push(`${label}: trusts ${foreignService.join(', ')} without aws:SourceAccount`);
        }
      }
    }
  }
  return out;
}

describe('least privilege', () => {
  const template = templateDocs();
  const baseline = baselineDocs();

  it('reads the policies it checks', () => {
    expect(template.filter((f) => f.kind === 'identity').length).toBeGreaterThanOrEqual(5);
    expect(template.some((f) => f.kind === 'resource')).toBe(true);
  });

  it('the packaged template has no wildcard action, no write on any resource, no open trust', () => {
    expect(problems(template)).toEqual([]);
  });

  it('lets onboarding read the effective backup policy its READY notice lists the plans of', () => {
    // The call's denial is caught and logged (the notice goes out without its plans section),
    // so nothing else would show that the permission went missing.
    const allowed = template
      .filter((f) => f.kind === 'identity' && f.where.startsWith('OnboardAccountRole'))
      .flatMap((f) => f.doc.Statement)
      .filter((st) => st.Effect === 'Allow')
      .flatMap((st) => list(st.Action));
    expect(allowed).toContain('organizations:DescribeEffectivePolicy');
  });

  it('the member baseline has none either', () => {
    expect(problems(baseline)).toEqual([]);
  });

  it('catches each kind of problem it is meant to catch', () => {
    const bad: Found[] = [
      {
        where: 'star',
        kind: 'identity',
        doc: { Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: 'arn:aws:s3:::b' }] },
      },
      {
        where: 'write',
        kind: 'identity',
        doc: { Statement: [{ Effect: 'Allow', Action: 'sqs:SendMessage', Resource: '*' }] },
      },
      {
        where: 'open',
        kind: 'trust',
        doc: {
          Statement: [
            {
              Effect: 'Allow',
              Principal: { AWS: 'arn:aws:iam::999999999999:root' },
              Action: 'sts:AssumeRole',
            },
          ],
        },
      },
      {
        where: 'service',
        kind: 'trust',
        doc: {
          Statement: [
            {
              Effect: 'Allow',
              Principal: { Service: 'events.amazonaws.com' },
              Action: 'sts:AssumeRole',
            },
          ],
        },
      },
      {
        where: 'bus',
        kind: 'resource',
        doc: {
          Statement: [
            { Effect: 'Allow', Principal: '*', Action: 'events:PutEvents', Resource: 'x' },
          ],
        },
      },
    ];
    expect(problems(bad)).toEqual([
      'star: allows s3:*',
      'write: write sqs:SendMessage on Resource "*"',
      'open: lets ["arn:aws:iam::999999999999:root"] in without an organization or role condition',
      'service: trusts events.amazonaws.com without aws:SourceAccount',
      'bus: lets ["*"] in without an organization or role condition',
    ]);
  });
});
