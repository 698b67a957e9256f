import type { ApplianceApi, ApplianceEvent, ApplianceStatus } from '../../server/appliance/api.js';

export type ScreenId = 'overview' | 'accounts' | 'sources' | 'import' | 'sessions' | 'log' | 'settings' | 'connect';

export interface Context {
  api: ApplianceApi;
  status(): ApplianceStatus | null;
  navigate(id: ScreenId): void;
  toast(message: string, kind?: 'ok' | 'error'): void;
}

export interface Screen {
  id: ScreenId;
  title: string;
  element: HTMLElement;
  /** Called each time the screen is brought to the front: refresh what it shows. */
  shown(): void;
  onEvent?(event: ApplianceEvent): void;
}
