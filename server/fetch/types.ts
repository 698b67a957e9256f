// Mail sources: an account's mailboxes at providers, fetched into its Maildir.

// Where a source's fetching stands is the GUI's type: one definition, in the API the GUI bundles.
import type { MailSourceStatus } from '../appliance/api.js';

export type { FetchProgress, MailSourceStatus } from '../appliance/api.js';

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

export interface MailSource extends SourceSettings {
  id: number;
  account: string;
  createdAt: number;
  status: MailSourceStatus;
}

export const DEFAULT_PORTS: Record<SourceKind, Record<SourceTls, number>> = {
  imap: { implicit: 993, starttls: 143, none: 143 },
  pop3: { implicit: 995, starttls: 110, none: 110 },
};
