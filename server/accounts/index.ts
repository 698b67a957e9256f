// Accounts: the SQLite account store, password hashing, and the Authenticator for IMAP sessions.
export {
  ACCOUNTS_FILE,
  AccountError,
  AccountStore,
  HOMES_DIR,
  MAX_ADDRESS_LENGTH,
  MAX_USERNAME_LENGTH,
  addressKey,
  addressProblem,
  SCHEMA_VERSION,
  homeDirectoryName,
  migrate,
  usernameKey,
  usernameProblem,
} from './account-store.js';
export type { Account, AccountErrorCode, AccountEvent, CheckResult, NewAccount, RecipientMatch } from './account-store.js';
export { MAX_PASSWORD_BYTES, SCRYPT_PARAMS, hashPassword, needsRehash, passwordProblem, verifyPassword } from './password.js';
export type { ScryptParams } from './password.js';
export { AccountAuthenticator, authenticatorSettings, normalizeAddress } from './authenticator.js';
export type { AccountAuthenticatorOptions } from './authenticator.js';
export { accountSharedIndex, courierSharedIndexText } from './shared-index.js';
export { IMAP_PORT, IMAPS_PORT, MailhostError, normalizeMailhost, parseMailhost } from './mailhost.js';
export type { MailhostEntry, ProxyConnector, ProxyOutcome } from './mailhost.js';
