// A refused call, and what travels over IPC and HTTP: a result, or an error with its code.
// Part of the appliance's API (../api.ts, which re-exports it): imports nothing outside api/.

export type ApiErrorCode = 'invalid-argument' | 'not-found' | 'exists' | 'conflict' | 'unavailable' | 'internal';

/** A refused call. `field` names the argument or setting at fault, for the GUI to point at. */
export class ApiError extends Error {
  constructor(
    readonly code: ApiErrorCode,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** What travels over IPC and HTTP: a result, or an error with its code. */
export type Envelope<T = unknown> =
  | { ok: true; result: T }
  | { ok: false; error: { code: ApiErrorCode; message: string; field?: string } };

export function errorEnvelope(err: unknown): Envelope<never> {
  if (err instanceof ApiError) {
    return { ok: false, error: { code: err.code, message: err.message, ...(err.field ? { field: err.field } : {}) } };
  }
  return { ok: false, error: { code: 'internal', message: err instanceof Error ? err.message : String(err) } };
}

/**
 * An error as an ApiError again, whatever carried it: Electron's contextBridge copies only
 * the message of an Error, so the preload rejects with a plain object of its fields.
 */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (typeof err === 'object' && err !== null) {
    const { code, message, field } = err as { code?: unknown; message?: unknown; field?: unknown };
    const codes: readonly string[] = ['invalid-argument', 'not-found', 'exists', 'conflict', 'unavailable', 'internal'];
    return new ApiError(
      typeof code === 'string' && codes.includes(code) ? (code as ApiErrorCode) : 'internal',
      typeof message === 'string' ? message : String(err),
      typeof field === 'string' ? field : undefined,
    );
  }
  return new ApiError('internal', String(err));
}

export function unwrapEnvelope<T>(envelope: Envelope<T>): T {
  if (envelope.ok) return envelope.result;
  throw new ApiError(envelope.error.code, envelope.error.message, envelope.error.field);
}
