// Mail sources: an account's mailboxes at providers, fetched into its Maildir.

export type SourceKind = 'imap' | 'pop3';
/** implicit: TLS from the first octet (993, 995); starttls: upgraded before login; none: plain (a local test server only). */
export type SourceTls = 'implicit' | 'starttls' | 'none';

export interface FolderMapping {
  /** The provider's folder ("INBOX", "Lists/node"); POP3 has only "INBOX". */
  remote: string;
  /** Where its messages go in the account ("INBOX", "INBOX.Provider"). */
  local: string;
}

/** A source as set up (without its password). */
export interface SourceSettings {
  kind: SourceKind;
  host: string;
  port: number;
  tls: SourceTls;
  username: string;
  folders: FolderMapping[];
  /** Days a fetched message stays at the provider; 0: removed once fetched; null: kept. */
  leaveOnServerDays: number | null;
  /** Fetch every this many seconds (besides IDLE on the provider's INBOX where offered). */
  pollSeconds: number;
  enabled: boolean;
  /** Accept a certificate that does not verify (a provider with a self-signed one). */
  allowInvalidCertificate: boolean;
}

export type SourceState = 'waiting' | 'fetching' | 'idle' | 'error' | 'disabled';

export interface SourceStatus {
  state: SourceState;
  lastFetchAt: number | null;
  lastSuccessAt: number | null;
  /** The last failure in plain words, cleared by the next success. */
  lastError: string | null;
  lastErrorAt: number | null;
  /** Messages fetched since the source was added. */
  fetchedTotal: number;
  /** Failures in a row (the backoff grows with them). */
  failures: number;
  nextAttemptAt: number | null;
  /** While a run fetches: the folder at work, and its messages landed of those found new. */
  progress: FetchProgress | null;
}

export interface FetchProgress {
  folder: string;
  done: number;
  total: number;
}

export interface MailSource extends SourceSettings {
  id: number;
  account: string;
  createdAt: number;
  status: SourceStatus;
}

export const DEFAULT_PORTS: Record<SourceKind, Record<SourceTls, number>> = {
  imap: { implicit: 993, starttls: 143, none: 143 },
  pop3: { implicit: 995, starttls: 110, none: 110 },
};
