// Long work of the appliance, shown with progress in the GUI: the first indexing of a Maildir
// that was moved in (UIDs assigned, every message read once), and filling the full-text index
// for SEARCH (IMAP_FTS_INDEX), both run through the same Maildir engine as the sessions while
// the server keeps serving.

import { join } from 'node:path';
import { usernameKey, type Account } from '../accounts/index.js';
import type { ImapdSettings } from '../config/index.js';
import { ApiError, type JobView } from './api.js';
import { isDirectory, type HostContext } from './host-context.js';
import type { ImapRunner } from './imap-runner.js';
import { indexMaildir, indexMaildirText, needsIndexing, needsTextIndexing } from './indexer.js';

const PROGRESS_EVENT_MS = 200;

interface Job {
  view: JobView;
  key: string;
  cancelled: boolean;
  done: Promise<void>;
  lastEventAt: number;
}

export class IndexJobs {
  private readonly jobs = new Map<number, Job>();
  private nextJobId = 1;

  constructor(
    private readonly ctx: HostContext,
    private readonly runner: ImapRunner,
    /** The settings in force (locks, keywords, the Trash folder's name). */
    private readonly settings: () => ImapdSettings,
    /** An account's usage changed (indexing counted it). */
    private readonly onUsageChanged: (key: string) => void,
  ) {}

  /** A number for a new job (also for the import jobs, so that every job has its own). */
  newJobId(): number {
    return this.nextJobId++;
  }

  views(): JobView[] {
    return [...this.jobs.values()].map((j) => ({ ...j.view }));
  }

  /** Stop the jobs of one account (by username key), or all, and wait for them. */
  async cancel(key?: string): Promise<void> {
    const chosen = [...this.jobs.values()].filter((j) => key === undefined || j.key === key);
    for (const job of chosen) job.cancelled = true;
    await Promise.all(chosen.map((j) => j.done));
  }

  async indexAccount(user: string): Promise<JobView> {
    const account = await this.ctx.accounts.get(user);
    if (!account) throw new ApiError('not-found', `no account ${JSON.stringify(user)}`, 'username');
    if (!(await isDirectory(join(this.runner.maildirOf(account), 'cur')))) {
      throw new ApiError('conflict', `the Maildir of ${account.username} does not exist yet; it is created at the first login`);
    }
    return { ...this.startIndexJob(account).view };
  }

  /** At start: index the Maildirs that have never been indexed (moved in while we were not running). */
  async indexWhereNeeded(): Promise<void> {
    for (const account of await this.ctx.accounts.list()) {
      if (this.ctx.closed()) return;
      try {
        const root = this.runner.maildirOf(account);
        if (await needsIndexing(root)) this.startIndexJob(account);
        else if (this.settings().ftsIndex && (await needsTextIndexing(root))) this.startIndexJob(account, 'fts');
      } catch {
        /* a Maildir we cannot read is reported at login */
      }
    }
  }

  /** `kind`: 'index' numbers and parses every message (then fills the full-text index when it is
   * on); 'fts' fills the full-text index only. */
  startIndexJob(account: Account, kind: JobView['kind'] = 'index'): Job {
    const key = usernameKey(account.username);
    for (const job of this.jobs.values()) if (job.key === key && job.view.kind === kind && job.view.state === 'running') return job;
    // Finished jobs of this account make way for the new one.
    for (const [id, job] of this.jobs) if (job.key === key && job.view.kind === kind) this.jobs.delete(id);
    const s = this.settings();
    const root = this.runner.maildirOf(account);
    const job: Job = {
      view: {
        id: this.newJobId(), kind, account: account.username, state: 'running', done: 0, total: 0, folder: null,
        foldersDone: 0, foldersTotal: 0, startedAt: Date.now(), finishedAt: null, secondsLeft: null, message: null,
      },
      key,
      cancelled: false,
      done: Promise.resolve(),
      lastEventAt: 0,
    };
    this.jobs.set(job.view.id, job);
    const what = kind === 'fts' ? 'the full-text index of' : 'indexing';
    this.ctx.record('info', account.username, `${kind === 'fts' ? 'filling the full-text index of' : 'indexing'} the Maildir ${root}`);
    let rateFrom: { at: number; done: number } | null = null;
    job.done = (async () => {
      // Let the caller's answer go out first.
      await new Promise((r) => setImmediate(r));
      try {
        const usage = await (kind === 'fts' ? indexMaildirText : indexMaildir)({
          root,
          useLocks: s.useLocks,
          keywords: s.keywords !== 0,
          trashFolder: s.trashFolder,
          logger: this.ctx.serverLogger(),
          cancelled: () => job.cancelled,
          onProgress: (p) => {
            Object.assign(job.view, p);
            // The rate is measured from the first indexed message on (counting and numbering come before it).
            const now = Date.now();
            if (p.done > 0 && rateFrom === null) rateFrom = { at: now, done: p.done };
            const sampled = rateFrom ? p.done - rateFrom.done : 0;
            job.view.secondsLeft =
              rateFrom && sampled >= Math.max(20, p.total / 100) && now > rateFrom.at
                ? Math.max(0, Math.round(((p.total - p.done) * (now - rateFrom.at)) / sampled / 1000))
                : null;
            this.progressEvent(job, false);
          },
        });
        job.view.state = job.cancelled ? 'failed' : 'done';
        job.view.message = job.cancelled ? 'stopped before the end' : null;
        if (usage && !job.cancelled && !this.ctx.closed()) await this.ctx.accounts.recordUsage(account.username, usage);
        // A Maildir just indexed has its text read next, when the full-text index is on.
        if (kind === 'index' && !job.cancelled && !this.ctx.closed() && this.settings().ftsIndex) this.startIndexJob(account, 'fts');
        this.ctx.record('info', account.username, `${what} ${job.cancelled ? 'stopped' : 'done'}: ${job.view.done} of ${job.view.total} messages in ${job.view.foldersDone} folder(s)`);
      } catch (err) {
        job.view.state = 'failed';
        job.view.message = (err as Error).message;
        this.ctx.record('error', account.username, `${what} failed: ${(err as Error).message}`);
      }
      job.view.finishedAt = Date.now();
      job.view.secondsLeft = 0;
      job.view.folder = null;
      this.onUsageChanged(key);
      this.progressEvent(job, true);
      this.ctx.emitStatus();
    })();
    this.progressEvent(job, true);
    return job;
  }

  private progressEvent(job: Job, force: boolean): void {
    const now = Date.now();
    if (!force && now - job.lastEventAt < PROGRESS_EVENT_MS) return;
    job.lastEventAt = now;
    this.ctx.emit({ type: 'progress', job: { ...job.view } });
  }
}
