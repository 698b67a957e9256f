// The network front: TLS certificates and the IMAP listeners.
export { ImapServer, BYE_TOO_MANY, BYE_TOO_MANY_FROM_ADDRESS } from './listener.js';
export type {
  ConnectionInfo,
  ConnectionPhase,
  ImapServerEvents,
  ImapServerOptions,
  ListenerInfo,
  ListenerKind,
  LogEvent,
  RejectedConnection,
  ServerSettings,
} from './listener-types.js';
export { AccessList, AccessFileError } from './access.js';
export type { AccessAction } from './access.js';
export { TlsError, certificateFingerprint, createServerContext, loadTlsMaterial, GENERATED_CERT_FILE, GENERATED_KEY_FILE, TLS_DIR } from './tls.js';
export type { LoadTlsOptions, TlsMaterial } from './tls.js';
export { ImapProxy, proxyFromSettings } from './proxy.js';
export type { ImapProxyOptions } from './proxy.js';
export { ImapFraming, startRelay } from './relay.js';
