// The Accounts screen: accounts, their quotas and Maildirs, folders shared with other
// accounts, and how a mail program sets itself up for an account.
// Part of the appliance's API (../api.ts, which re-exports it): imports nothing outside api/.

export interface AccountView {
  username: string;
  enabled: boolean;
  maildir: string;
  maildirExists: boolean;
  home: string;
  createdAt: number;
  lastLoginAt: number | null;
  lastLoginAddress: string | null;
  /** Messages and octets in all folders (null until counted). */
  usage: { messages: number; bytes: number; countedAt: number } | null;
  quotaBytes: number | null;
  quotaMessages: number | null;
  sessions: number;
  /** The server the account's mail lives on when not this one (IMAP_PROXY relays its logins there); null: here. */
  mailhost: string | null;
  /**
   * Which list of sharable Maildirs ("shared.NAME.FOLDER", read-only) the account sees: null
   * none, "" the IMAPD_MAILDIRSHARED file, "GROUP" that file's name with GROUP appended.
   */
  sharable: string | null;
}

export interface NewAccountInput {
  username: string;
  password: string;
  /** Absolute path of the Maildir, created when missing; null or absent: <data>/mail/<name>/Maildir. */
  maildir?: string | null;
  /** Courier's maildirsize quota; null or absent: none. */
  quota?: QuotaInput | null;
}

/** A quota in octets and in messages; null for no limit of that kind. */
export interface QuotaInput {
  bytes: number | null;
  messages: number | null;
}

/**
 * How much another account may do in a shared folder, in plain words; each is a set of
 * Courier's ACL letters (server/backend/acl.ts), written to the folder's courierimapacl
 * exactly as SETACL would write them.
 */
export type ShareAccess = 'read' | 'read-mark' | 'read-write' | 'full';

export const SHARE_ACCESS: readonly { id: ShareAccess; label: string; rights: string; meaning: string }[] = [
  { id: 'read', label: 'Read', rights: 'lr', meaning: 'see the folder and read its messages; nothing is marked as read for the owner' },
  { id: 'read-mark', label: 'Read and mark', rights: 'lrsw', meaning: 'also mark messages read, unread, flagged or with keywords' },
  { id: 'read-write', label: 'Read and write', rights: 'eilrstw', meaning: 'also add messages, and delete them' },
  { id: 'full', label: 'Full', rights: 'ceilrstwx', meaning: 'also make, rename and delete subfolders and the folder itself; only sharing it further stays with the owner' },
];

/** One entry of a folder's ACL that lets someone other than its owner in. */
export interface ShareView {
  /** The account whose folder it is. */
  owner: string;
  /** The folder in the owner's Maildir: "INBOX", "INBOX.Projects". */
  folder: string;
  /** As stored in courierimapacl: "user=bob", "anyone", "-user=bob" (rights taken away). */
  identifier: string;
  /** The account it names, or null for everyone ("anyone", "anonymous") and negative entries. */
  account: string | null;
  /** The plain-words access these rights are, or 'custom' (set over IMAP with other letters). */
  access: ShareAccess | 'custom';
  /** Courier's letters, as stored. */
  rights: string;
  /** What the other account calls the folder: "#shared.alice.Projects". */
  sharedName: string;
  /** The owner's subfolders without a list of their own, which take this one (and so are shared too). */
  inheritedBy: string[];
}

export interface SharesView {
  /** Every account whose Maildir exists, with its folders (to choose from). */
  accounts: { username: string; folders: string[] }[];
  shares: ShareView[];
}

export interface ShareInput {
  owner: string;
  folder: string;
  /** The account it is shared with. */
  account: string;
  access: ShareAccess;
}

/** Account passwords: at least this many characters (checked by the server, shown by the form). */
export const MIN_ACCOUNT_PASSWORD = 8;

/** What a Maildir location holds, said before an account is made on it. */
export interface MaildirInspection {
  path: string;
  /** 'missing': nothing there (it would be created); 'maildir': a Maildir; 'empty': an empty directory; 'other': not usable. */
  kind: 'missing' | 'maildir' | 'empty' | 'other';
  messages: number;
  folders: number;
  bytes: number;
  /** One sentence for the user. */
  summary: string;
}

/** How a mail program on a phone or laptop sets itself up for one account. */
export interface ClientSetupView {
  username: string;
  /** The host name or address put into the files. */
  host: string;
  /** Each way, with its link and the link as a QR code (an SVG data: URL). */
  methods: { id: 'autoconfig' | 'mobileconfig' | 'autodiscover'; title: string; url: string; qr: string; note: string }[];
  /** Why there are no links (setup server off, listening on this computer only), or null. */
  problem: string | null;
}
