// The preload of the appliance window: exposes the ApplianceApi as window.api through
// contextBridge, and nothing else (no ipcRenderer, no Node). Each method is one IPC
// channel; the main process checks the sender and every argument again.
//
// It runs sandboxed, so it is bundled (build/build-ui.mjs) into one CommonJS file with
// the method list from server/appliance/api.ts.

import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { API_METHODS, IPC, ipcChannel, type ApplianceEvent, type ApplianceListener, type Envelope } from '../server/appliance/api.js';

const api: Record<string, unknown> = {};
for (const method of API_METHODS) {
  api[method] = async (...args: unknown[]): Promise<unknown> => {
    const envelope = (await ipcRenderer.invoke(ipcChannel(method), ...args)) as Envelope;
    if (envelope.ok) return envelope.result;
    // A plain object: contextBridge would keep only the message of an Error (renderer/main.ts makes it an ApiError again).
    throw { name: 'ApiError', ...envelope.error };
  };
}
api.subscribe = (listener: ApplianceListener): (() => void) => {
  const handler = (_event: IpcRendererEvent, event: ApplianceEvent) => listener(event);
  ipcRenderer.on(IPC.event, handler);
  return () => {
    ipcRenderer.removeListener(IPC.event, handler);
  };
};

contextBridge.exposeInMainWorld('api', api);
