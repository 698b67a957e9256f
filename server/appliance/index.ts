// The appliance: the host (plain Node), its API, and the API over HTTP.
export * from './api.js';
export { ApplianceHost, type ApplianceHostOptions } from './host.js';
export { ApplianceHttpServer, CONTENT_SECURITY_POLICY, TOKEN_COOKIE, TOKEN_HEADER, defaultStaticDir, type ApplianceHttpOptions } from './http.js';
export { checkArgs, invokeApi } from './validate.js';
export { LogRing, formatLogMessage } from './log.js';
export { defaultDataDir, configDirOf, APP_DIR_NAME } from './paths.js';
export { defaultConfigText } from './defaults.js';
export { countMaildir, indexMaildir, needsIndexing } from './indexer.js';
