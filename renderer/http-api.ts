// window.api for a browser: the same ApplianceApi as Electron's preload provides, over
// the appliance's HTTP server (JSON POST /api/<method>, server-sent events on
// /api/events). The cookie set from the ?token= link authenticates every request.

import { API_METHODS, ApiError, unwrapEnvelope, type ApiMethod, type ApplianceApi, type ApplianceEvent, type ApplianceListener, type Envelope } from '../server/appliance/api.js';

async function call(method: ApiMethod, args: unknown[]): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(`/api/${method}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(args),
      credentials: 'same-origin',
    });
  } catch {
    throw new ApiError('unavailable', 'The appliance does not answer. Is it still running?');
  }
  let envelope: Envelope;
  try {
    envelope = (await response.json()) as Envelope;
  } catch {
    throw new ApiError('internal', `The appliance answered ${response.status} ${response.statusText}`);
  }
  return unwrapEnvelope(envelope);
}

/** Status shown while the event stream is down, so that the GUI does not pretend all is well. */
export type ConnectionListener = (connected: boolean) => void;

export function httpApi(onConnection: ConnectionListener = () => undefined): ApplianceApi {
  const api: Partial<Record<ApiMethod, (...args: unknown[]) => Promise<unknown>>> = {};
  for (const method of API_METHODS) api[method] = (...args: unknown[]) => call(method, args);
  const subscribe = (listener: ApplianceListener): (() => void) => {
    const source = new EventSource('/api/events', { withCredentials: true });
    let lost = false;
    source.onmessage = (message: MessageEvent<string>) => {
      try {
        listener(JSON.parse(message.data) as ApplianceEvent);
      } catch {
        /* a malformed event is dropped */
      }
    };
    source.onerror = () => {
      lost = true;
      onConnection(false);
    };
    source.onopen = () => {
      onConnection(true);
      if (!lost) return;
      lost = false;
      // Whatever happened while the stream was down: catch up.
      void call('getStatus', []).then((status) => listener({ type: 'status', status } as ApplianceEvent), () => undefined);
      void call('listSessions', []).then((sessions) => listener({ type: 'sessions', sessions } as ApplianceEvent), () => undefined);
      listener({ type: 'accounts' });
      listener({ type: 'settings' });
    };
    return () => source.close();
  };
  return { ...(api as Omit<ApplianceApi, 'subscribe'>), subscribe };
}
