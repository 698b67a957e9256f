// Accounts: the account store (SQLite, PostgreSQL or LDAP), password hashing, and the Authenticator for IMAP sessions.
export {
  AccountError,
  HOMES_DIR,
  MAX_ADDRESS_LENGTH,
  MAX_USERNAME_LENGTH,
  addressKey,
  addressProblem,
  homeDirectoryName,
  usernameKey,
  usernameProblem,
} from './store.js';
export type { Account, AccountErrorCode, AccountEvent, AccountStore, AccountStoreKind, CheckResult, NewAccount, RecipientMatch } from './store.js';
export { ACCOUNTS_FILE, SCHEMA_VERSION, SqliteAccountStore, migrate } from './account-store.js';
export { PostgresAccountStore, POSTGRES_SCHEMA_VERSION, redactedUrl } from './postgres-store.js';
export { LdapAccountStore, parseCourierQuota, parseLdapUrl } from './ldap-store.js';
export { describeAccountsSetting, openAccountStore, parseAccountsSetting, testAccountStore } from './open-store.js';
export type { AccountsSpec, ConnectionTest } from './open-store.js';
export { SqlAccountStore } from './sql-store.js';
export type { AccountDump, LoadResult } from './sql-store.js';
export { verifiedAccount } from './login-check.js';
export { MAX_PASSWORD_BYTES, SCRYPT_PARAMS, hashPassword, needsRehash, passwordProblem, verifyPassword } from './password.js';
export type { ScryptParams } from './password.js';
export { AccountAuthenticator, authenticatorSettings, normalizeAddress, openerSettings } from './authenticator.js';
export type { AccountAuthenticatorOptions } from './authenticator.js';
export { accountSharedIndex, courierSharedIndexText } from './shared-index.js';
export { IMAP_PORT, IMAPS_PORT, MailhostError, normalizeMailhost, parseMailhost } from './mailhost.js';
export type { MailhostEntry, ProxyConnector, ProxyOutcome } from './mailhost.js';
