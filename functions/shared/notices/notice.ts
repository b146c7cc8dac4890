import type { JobType, NoticeKind, Severity } from '../config/vocabulary';

/**
 * What every message the control plane sends says, before routing and before any channel's
 * formatting: job alerts, onboarding notices, drift and coverage findings, digests. Flows build
 * a Notice from their facts; the pipeline (send.ts) enriches the account, routes, renders once
 * per channel and delivers once. Values here are raw text: each renderer makes outside text
 * inert and escapes it for its own medium.
 */
export interface Notice {
  kind: NoticeKind;
  /** The same notice, however it was reached again (retry, redelivery, a later run), has the same key. */
  dedupKey: string;
  /**
   * Keys under which the same fact may have gone out already: a channel that delivered one of them
   * is not sent this notice (two events of one deletion a few minutes apart, across an hour).
   */
  sameAs?: string[];
  severity: Severity;
  /**
   * Who hears it, when not its own severity: an incident's "recovered" notice (info) reaches the
   * lists and subscription filters that heard the incident (error).
   */
  routeSeverity?: Severity;
  /** The state word shown first and in the subject: FAILED, READY, DRIFT REPAIRED, ... */
  label: string;
  /** What the notice is about, in words: "Backup job", "Account onboarding", "Baseline drift". */
  what: string;
  /** The one thing it concerns (a resource, a rule); shortened first when a subject runs long. */
  item?: string;
  /** The heading when "<what> <label>: <item>" does not read well ("Account X is backup-ready"). */
  headline?: string;
  /** A one-line summary for chat previews; default: headline, else what, label, item, account. */
  summary?: string;
  account?: AccountRef;
  /** Who the "account-owner" list means for a notice about several accounts (a digest). */
  owners?: string[];
  region?: string;
  /** Why, in the words of AWS or of the check (status message, error). */
  reason?: string;
  facts: Fact[];
  sections: Section[];
  nextSteps: string[];
  /** The main link (console page) and what it opens. */
  link?: { url: string; label: string };
  /** Routing facts beyond kind, severity, account and region. */
  jobType?: JobType;
  /** The state attribute for subscription filters (FAILED, COMPLETED, READY, ...). */
  state: string;
  resourceType?: string;
  chat: ChatMeta;
  /** Shown in the footer: the event id, the check run, the digest period. */
  reference: string;
}

export interface AccountRef {
  id: string;
  name?: string;
  email?: string;
  /** "Workloads/Production"; "" for an account directly under the root. */
  ouPath?: string;
  tags?: Readonly<Record<string, string>>;
}

export interface Fact {
  label: string;
  value: string;
  /** Identifiers render as code and stay copy-pasteable; text is made inert. */
  kind: 'text' | 'id';
}

export interface Cell {
  value: string;
  kind?: 'text' | 'id';
}

/** A block under a heading: plans and the tags to use, drifted resources, missed backups. */
export interface Section {
  title: string;
  /** Column headings, when rows have more than one cell. */
  columns?: string[];
  rows: Cell[][];
  /** Detail most readers skip: folded in the HTML email, left out of chat. */
  collapsed?: boolean;
  /** Rows beyond the first `chatRows` are counted, not listed, in chat. Default 10; 0 counts all. */
  chatRows?: number;
}

export interface ChatMeta {
  /** Messages about one thing share a thread (one job, one account's onboarding). */
  threadId: string;
  /** CamelCase type shown by the chat client, e.g. BackupJobFailed. */
  eventType: string;
  keywords: string[];
  relatedResources: string[];
  /** Extra key/values for chat clients; account, region, kind and severity are added. */
  context: Record<string, string>;
}

export const text = (label: string, value: string | undefined): Fact[] =>
  value ? [{ label, value, kind: 'text' }] : [];
export const id = (label: string, value: string | undefined): Fact[] =>
  value ? [{ label, value, kind: 'id' }] : [];

/** "Production (111122223333)", or the id alone while the name is unknown or redacted. */
export function accountLabel(account: Pick<AccountRef, 'id' | 'name'>): string {
  return account.name && account.name !== '****' ? `${account.name} (${account.id})` : account.id;
}

/** "BackupJobFailed" from "Backup job" and "FAILED". */
export function camelEventType(...words: string[]): string {
  return words
    .join(' ')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean)
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('');
}
