export const SERVER_NAME = 'imapd-ts';
export const SERVER_VERSION = '0.1.0';
