// What the listeners see of a session: its handle and the row the GUI's Live sessions
// screen shows (server/net/listener.ts).

import type { SessionState } from './commands/types.js';

export interface SessionInfo {
  id: number;
  user: string | null;
  remoteAddress: string;
  secure: boolean;
  state: SessionState;
  selected: string | null;
  idle: boolean;
  connectedAt: number;
  bytesIn: number;
  bytesOut: number;
}

export interface SessionHandle {
  closed: Promise<void>;
  disconnect(reason: string | null): void;
  info(): SessionInfo;
  /** Called with the session's info whenever its state, folder or IDLE changes. */
  onChange?: (info: SessionInfo) => void;
}
