// The reference peers (Courier-IMAP and Dovecot from Debian's packages) and the project's own
// scripts that run them (test/peers/). Each skip reason names what is really missing.

import { existsSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from './root.js';


/** The project's peer scripts (make-maildir.sh, courier-*.sh, dovecot-*.sh, install.sh). */
export const PEERS = path.join(ROOT, 'test', 'peers');

export const COURIER_IMAPD = '/usr/bin/imapd';
/** Dovecot's imap binary: unpacked beside courier-imap (the two conflict in apt), or installed. */
export const DOVECOT_IMAP = ['/opt/peers/dovecot-imapd/usr/lib/dovecot/imap', '/usr/lib/dovecot/imap'].find((p) => existsSync(p));

const INSTALL_HINT = 'run `npm run peers` to install it';

/** Why Courier-IMAP tests cannot run here, or false when they can. */
export const courierSkip: string | false = !existsSync(COURIER_IMAPD)
  ? `Courier-IMAP's imapd is not installed (${COURIER_IMAPD}); ${INSTALL_HINT}`
  : false;

/** Why Dovecot tests cannot run here, or false when they can. */
export const dovecotSkip: string | false = !DOVECOT_IMAP
  ? `Dovecot's imap binary is not installed (/opt/peers/dovecot-imapd or /usr/lib/dovecot); ${INSTALL_HINT}`
  : false;

/** A peer script by file name. */
export function peerScript(name: string): string {
  return path.join(PEERS, name);
}
