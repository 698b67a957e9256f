// Imports started from the GUI (the Import screen): an mbox file, a Maildir or a whole IMAP
// account into an account, each run as a job with progress events (as the index jobs,
// index-jobs.ts), a cancel that stops after the messages being written, and a summary at the
// end. The same code as imapd-import (server/delivery/import.ts and the modules beside it), so a
// job stopped here goes on from where it was when started again, here or from the command line.

import { isAbsolute } from 'node:path';
import type { MailStore } from '../backend/mailstore.js';
import type { MailboxOpener } from '../delivery/deliverer.js';
import { ImportError, importMbox, type ImportProgress } from '../delivery/import.js';
import { importMaildir } from '../delivery/maildir-import.js';
import { importImap } from '../fetch/imap-import.js';
import { ApiError, type ImportInput, type JobView } from './api.js';
import type { HostContext } from './host-context.js';

const PROGRESS_EVENT_MS = 200;
/** Finished imports kept in the list (the newest). */
const KEEP_FINISHED = 20;

interface Job {
  view: JobView;
  cancelled: boolean;
  done: Promise<void>;
  lastEventAt: number;
}

export class ImportJobs {
  private readonly jobs = new Map<number, Job>();

  constructor(
    private readonly ctx: HostContext,
    private readonly opener: () => MailboxOpener,
    /** Job numbers shared with the index jobs, so that the GUI can tell every job apart. */
    private readonly nextId: () => number,
    /** An account's usage changed. */
    private readonly onUsageChanged: (account: string) => void,
  ) {}

  views(): JobView[] {
    return [...this.jobs.values()].map((j) => ({ ...j.view }));
  }

  async start(input: ImportInput): Promise<JobView> {
    const account = await this.ctx.accounts.get(input.account);
    if (!account) throw new ApiError('not-found', `no account ${JSON.stringify(input.account)}`, 'account');
    if (input.kind !== 'imap' && !isAbsolute(input.path ?? '')) throw new ApiError('invalid-argument', 'give the whole path, from / (or a drive letter)', 'path');
    const folder = input.folder ? `INBOX.${input.folder}` : 'INBOX';
    const source = input.kind === 'imap' ? `the IMAP account ${input.username}@${input.host}` : `the ${input.kind === 'mbox' ? 'mbox file' : 'Maildir'} ${input.path}`;
    for (const job of this.jobs.values()) {
      if (job.view.state === 'running' && job.view.account === account.username && job.view.source === source) throw new ApiError('conflict', `${source} is being imported already`);
    }
    const job: Job = {
      view: {
        id: this.nextId(), kind: 'import', account: account.username, state: 'running', done: 0, total: 0, folder: null,
        foldersDone: 0, foldersTotal: 0, startedAt: Date.now(), finishedAt: null, secondsLeft: null, message: null,
        source, imported: 0, skipped: 0, unit: input.kind === 'mbox' ? 'octets' : 'messages', cancelled: false,
      },
      cancelled: false,
      done: Promise.resolve(),
      lastEventAt: 0,
    };
    this.jobs.set(job.view.id, job);
    this.trim();
    this.ctx.record('info', account.username, `import of ${source} into ${folder} started`);
    job.done = (async () => {
      await new Promise((r) => setImmediate(r));
      let store: MailStore | null = null;
      try {
        store = await this.opener().openMailbox(account);
        const common = {
          dataDir: this.ctx.dataDir, store, account: account.username, folder,
          cancelled: () => job.cancelled || this.ctx.closed(),
          onProgress: (p: ImportProgress) => {
            this.apply(job, p);
            this.progressEvent(job, false);
          },
        };
        const result = input.kind === 'mbox'
          ? await importMbox({ ...common, file: input.path!, format: input.format ?? 'mboxrd' })
          : input.kind === 'maildir'
            ? await importMaildir({ ...common, maildir: input.path! })
            : await importImap({
                ...common, password: input.password ?? '',
                server: { host: input.host!, port: input.port!, tls: input.tls!, username: input.username!, allowInvalidCertificate: input.allowInvalidCertificate ?? false },
              });
        this.apply(job, result);
        job.view.state = job.cancelled ? 'failed' : 'done';
        job.view.cancelled = job.cancelled;
        const kept = result.uidsKept ? `; ${result.uidsKept} kept their UIDs` : '';
        const notes = result.notes.length ? `. ${result.notes.join('. ')}` : '';
        job.view.message = `${result.imported} imported, ${result.skipped} already there${kept}${job.cancelled ? '; stopped before the end: start it again to go on' : ''}${notes}`;
        this.ctx.record('info', account.username, `import of ${source} ${job.cancelled ? 'stopped' : 'done'}: ${job.view.message}`);
      } catch (err) {
        job.view.state = 'failed';
        const reason = err instanceof ImportError ? err.message : `${(err as Error).message}`;
        job.view.message = job.view.imported ? `${reason} (${job.view.imported} imported before that; start it again to go on)` : reason;
        this.ctx.record('error', account.username, `import of ${source} failed: ${reason}`);
      } finally {
        await store?.close().catch(() => undefined);
      }
      job.view.finishedAt = Date.now();
      job.view.secondsLeft = 0;
      job.view.folder = null;
      this.onUsageChanged(account.username);
      this.progressEvent(job, true);
      this.ctx.emitStatus();
    })();
    this.progressEvent(job, true);
    return { ...job.view };
  }

  async cancel(id: number): Promise<JobView> {
    const job = this.jobs.get(id);
    if (!job) throw new ApiError('not-found', 'no such import', 'id');
    job.cancelled = true;
    await job.done;
    return { ...job.view };
  }

  /** Stop every running import and wait for them (the appliance is stopping). */
  async cancelAll(): Promise<void> {
    const running = [...this.jobs.values()].filter((j) => j.view.state === 'running');
    for (const job of running) job.cancelled = true;
    await Promise.all(running.map((j) => j.done));
  }

  private apply(job: Job, p: ImportProgress): void {
    const v = job.view;
    v.imported = p.imported;
    v.skipped = p.skipped;
    if (p.messagesTotal !== null) {
      v.done = p.imported + p.skipped;
      v.total = p.messagesTotal;
    } else {
      v.done = p.bytesDone;
      v.total = p.bytesTotal;
    }
    v.folder = p.folder;
    v.foldersDone = p.foldersDone;
    v.foldersTotal = p.foldersTotal;
    v.secondsLeft = p.remainingMs === null ? null : Math.round(p.remainingMs / 1000);
  }

  private trim(): void {
    const finished = [...this.jobs.values()].filter((j) => j.view.state !== 'running');
    for (const job of finished.slice(0, Math.max(0, finished.length - KEEP_FINISHED))) this.jobs.delete(job.view.id);
  }

  private progressEvent(job: Job, force: boolean): void {
    const now = Date.now();
    if (!force && now - job.lastEventAt < PROGRESS_EVENT_MS) return;
    job.lastEventAt = now;
    this.ctx.emit({ type: 'progress', job: { ...job.view } });
  }
}
