// The Mail sources screen: an account's mailboxes at providers, fetched into the account
// (server/fetch/), as set up and where their fetching stands.
// Part of the appliance's API (../api.ts, which re-exports it): imports nothing outside api/.

/** A mail source: an account's mailbox at a provider, fetched into the account. */
export interface MailSourceInput {
  kind: 'imap' | 'pop3';
  host: string;
  port: number;
  /** implicit: TLS from the start (993, 995); starttls: upgraded before login; none: no encryption. */
  tls: 'implicit' | 'starttls' | 'none';
  username: string;
  /** Required when adding; empty or absent when editing keeps the stored one. */
  password?: string;
  /** Provider folder to local folder ("INBOX" to "INBOX"); POP3 has only the provider's INBOX. */
  folders: { remote: string; local: string }[];
  /** Days fetched mail stays at the provider; 0: removed once fetched; null: kept. */
  leaveOnServerDays: number | null;
  pollSeconds: number;
  enabled: boolean;
  allowInvalidCertificate: boolean;
}

export interface MailSourceView extends Omit<MailSourceInput, 'password'> {
  id: number;
  account: string;
  createdAt: number;
  status: MailSourceStatus;
}

export interface MailSourceTest {
  ok: boolean;
  message: string;
}

/** waiting (for the schedule), fetching, idle (IDLE at the provider), error (waiting to retry), disabled. */
export type MailSourceState = 'waiting' | 'fetching' | 'idle' | 'error' | 'disabled';

/** Where a source's fetching stands: kept by its runner (server/fetch/runner.ts), shown by the GUI. */
export interface MailSourceStatus {
  state: MailSourceState;
  lastFetchAt: number | null;
  lastSuccessAt: number | null;
  /** The last failure in plain words, or null (cleared by the next success). */
  lastError: string | null;
  lastErrorAt: number | null;
  /** Messages fetched since the source was added. */
  fetchedTotal: number;
  /** Failures in a row (the backoff grows with them). */
  failures: number;
  nextAttemptAt: number | null;
  /** While fetching: the provider folder at work, messages landed of those found new there. */
  progress: FetchProgress | null;
}

export interface FetchProgress {
  folder: string;
  done: number;
  total: number;
}
