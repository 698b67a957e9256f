// Mail sources in the appliance: the FetchService (server/fetch/) behind the API's methods,
// with the key file of the data directory sealing the passwords (a desktop build may give
// a SecretBox over Electron's safeStorage instead), and an event to the GUI at each change
// of a source's state.

import type { MailboxOpener } from '../delivery/deliverer.js';
import { KeyFileSecretBox, UnavailableSecretBox, type SecretBox } from '../fetch/secrets.js';
import { FetchService } from '../fetch/service.js';
import type { MailSource, SourceSettings } from '../fetch/types.js';
import { ApiError, type MailSourceInput, type MailSourceTest, type MailSourceView } from './api.js';
import type { HostContext } from './host-context.js';

export class MailSources {
  private constructor(
    private readonly ctx: HostContext,
    private readonly service: FetchService,
    /** Why mail sources cannot work (the key file cannot be used), or null. */
    readonly problem: string | null,
  ) {
    service.onChange((id) => {
      const source = service.get(id);
      ctx.emit({ type: 'mail-source', source: source ? toView(source) : { id, removed: true } });
    });
  }

  /**
   * A key file that cannot be used (readable by others, damaged) does not stop the appliance:
   * the sources fail with why, and the Mail sources screen shows it (problem).
   */
  static async open(ctx: HostContext, opener: () => MailboxOpener, secrets?: SecretBox, maxMessageSize?: () => number): Promise<MailSources> {
    let box = secrets;
    let problem: string | null = null;
    if (!box) {
      try {
        box = await KeyFileSecretBox.open(ctx.dataDir);
      } catch (err) {
        problem = `The passwords of mail sources cannot be read or stored: ${(err as Error).message}.`;
        box = new UnavailableSecretBox(problem);
        ctx.record('error', null, problem);
      }
    }
    const service = new FetchService({
      dataDir: ctx.dataDir,
      accounts: ctx.accounts,
      opener,
      logger: ctx.serverLogger(),
      secrets: box,
      ...(maxMessageSize ? { maxMessageSize } : {}),
    });
    return new MailSources(ctx, service, problem);
  }

  start(): void {
    this.service.start();
  }

  close(): Promise<void> {
    return this.service.close();
  }

  list(account?: string): MailSourceView[] {
    return this.service.list(account).map(toView);
  }

  async add(account: string, input: MailSourceInput): Promise<MailSourceView> {
    const owner = await this.ctx.accounts.get(account);
    if (!owner) throw new ApiError('not-found', `no account ${account}`, 'account');
    if (!input.password) throw new ApiError('invalid-argument', 'enter the password', 'password');
    if (this.problem) throw new ApiError('unavailable', this.problem);
    const source = this.service.add(owner.username, settingsOf(input), input.password);
    this.ctx.record('info', owner.username, 'mail source added', { source: `${input.username}@${input.host}` });
    return toView(source);
  }

  async update(id: number, input: MailSourceInput): Promise<MailSourceView> {
    // Refused before the source's runner is stopped: a new password cannot be sealed.
    if (this.problem && input.password) throw new ApiError('unavailable', this.problem);
    const source = await this.service.update(id, settingsOf(input), input.password ? input.password : null);
    if (!source) throw new ApiError('not-found', 'no such mail source', 'id');
    return toView(source);
  }

  async remove(id: number): Promise<void> {
    if (!(await this.service.remove(id))) throw new ApiError('not-found', 'no such mail source', 'id');
  }

  test(input: MailSourceInput, id?: number): Promise<MailSourceTest> {
    return this.service.test(settingsOf(input), input.password ? input.password : null, id);
  }

  async fetch(id: number): Promise<MailSourceView> {
    const source = await this.service.fetchNow(id);
    if (!source) throw new ApiError('not-found', 'no such mail source', 'id');
    return toView(source);
  }
}

function settingsOf(input: MailSourceInput): SourceSettings {
  const { password: _password, ...settings } = input;
  void _password;
  return settings;
}

function toView(source: MailSource): MailSourceView {
  return { ...source, folders: source.folders.map((f) => ({ ...f })), status: { ...source.status } };
}
