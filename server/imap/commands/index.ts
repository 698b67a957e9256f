// The command table. Each module answers one command (or a command and its UID form) and
// declares what it implements: the capability words (announced by ../capabilities.ts) and
// whether its answer uses sequence numbers (CommandSpec in types.ts).
import type { CommandSpec } from './types.js';
import { capability } from './capability.js';
import { noop, check } from './noop.js';
import { logout } from './logout.js';
import { login, authenticate, starttls } from './login.js';
import { select, examine } from './select.js';
import { create, deleteMailbox, rename, subscribe, unsubscribe } from './mailboxes.js';
import { list, lsub } from './list.js';
import { status } from './status.js';
import { append } from './append.js';
import { replace } from './replace.js';
import { close, unselect } from './close.js';
import { expunge } from './expunge.js';
import { search } from './search.js';
import { cancelupdate } from './search-context.js';
import { fetch } from './fetch.js';
import { store } from './store.js';
import { copy, move } from './copy.js';
import { idle } from './idle.js';
import { namespace } from './namespace.js';
import { enable } from './enable.js';
import { id } from './id.js';
import { sort } from './sort.js';
import { thread } from './thread.js';
import { getquota, getquotaroot, setquota } from './quota.js';
import { getacl, setacl, deleteacl, listrights, myrights } from './acl.js';
import { unauthenticate } from './unauthenticate.js';
import { compress } from './compress.js';
import { notify } from './notify.js';

export const COMMAND_SPECS: readonly CommandSpec[] = [
  capability, noop, check, logout, login, authenticate, starttls, select, examine, create,
  deleteMailbox, rename, subscribe, unsubscribe, list, lsub, status, append, replace, close, unselect,
  expunge, search, cancelupdate, fetch, store, copy, move, idle, namespace, enable, id, sort, thread,
  getquota, getquotaroot, setquota, getacl, setacl, deleteacl, listrights, myrights, unauthenticate,
  compress,
  notify,
];

export const COMMANDS = new Map<string, CommandSpec>();
for (const spec of COMMAND_SPECS) for (const name of spec.names) COMMANDS.set(name, spec);
