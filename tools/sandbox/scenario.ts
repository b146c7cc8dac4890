/**
 * The sandbox's story: which sample each member account emits, and what must come out of it.
 * Expectations are written here by hand, from the example configuration and the chat
 * subscriber's filter policy, so the sandbox checks the system instead of echoing it.
 */

export type Sender = { account: 'management' } | { account: 'member'; name: string };

export interface ScenarioStep {
  title: string;
  /** A file under events/, without `.json`. */
  sample: string;
  from: Sender;
  expect: {
    /** Recipient lists that get one email each (example config). */
    emails: string[];
    /** Whether the chat subscriber (filter: severity error or warning) receives it. */
    chat: boolean;
    /** Whether the function publishes to the chat topic at all. */
    published: boolean;
  };
}

/** The chat stand-in subscribes with this filter: info stays out of the channel. */
export const CHAT_FILTER_POLICY = { severity: ['error', 'warning'] };

export const SCENARIO: readonly ScenarioStep[] = [
  {
    title: 'backup FAILED (DynamoDB)',
    sample: 'backup/backup-job-state-change.failed',
    from: { account: 'member', name: 'Production' },
    expect: { emails: ['admins', 'dba'], chat: true, published: true },
  },
  {
    title: 'backup completed with issues (EC2, VSS)',
    sample: 'backup/backup-job-state-change.completed-with-issues',
    from: { account: 'member', name: 'Staging' },
    expect: { emails: ['admins'], chat: true, published: true },
  },
  {
    title: 'backup COMPLETED (EBS)',
    sample: 'backup/backup-job-state-change.completed',
    from: { account: 'member', name: 'Production' },
    expect: { emails: [], chat: false, published: true },
  },
  {
    title: 'backup RUNNING (EBS)',
    sample: 'backup/backup-job-state-change.running',
    from: { account: 'member', name: 'Production' },
    expect: { emails: [], chat: false, published: false },
  },
  {
    title: 'copy FAILED (Aurora, cross-Region)',
    sample: 'backup/copy-job-state-change.failed',
    from: { account: 'member', name: 'Analytics' },
    expect: { emails: ['admins', 'dba'], chat: true, published: true },
  },
  {
    title: 'restore COMPLETED (EBS)',
    sample: 'backup/restore-job-state-change.completed',
    from: { account: 'management' },
    expect: { emails: [], chat: false, published: true },
  },
  {
    title: 'malware scan THREATS_FOUND (EC2)',
    sample: 'backup/scan-job-state-change.threats-found',
    from: { account: 'member', name: 'Analytics' },
    expect: { emails: ['admins'], chat: true, published: true },
  },
  {
    title: 'restore FAILED (EC2)',
    sample: 'backup/restore-job-state-change.failed',
    from: { account: 'member', name: 'Staging' },
    expect: { emails: ['admins'], chat: true, published: true },
  },
];

/** Delivered again to the queue, as SQS may: must send nothing new. */
export const REDELIVERED_STEP = 0;

/** Put straight on the queue (EventBridge would never deliver it): must end in the DLQ. */
export const MALFORMED_SAMPLE = 'malformed/backup-job-missing-state';
