// Settings: every setting the server honours, grouped, each with its meaning, default and
// where its value comes from. Changes are checked by the appliance as they are typed
// (a bad number, a port in use, a missing certificate file) and applied together; the
// files are Courier's imapd and imapd-ssl, which can be imported and exported.

import { SETTING_GROUPS, type ApplyResult, type ConfigFileName, type SettingChanges, type SettingProblem, type SettingView, type SettingsView, type ValidationResult } from '../../server/appliance/api.js';
import { h, replaceChildren } from '../dom.js';
import { bytes, duration } from '../format.js';
import { labelOf } from './setting-labels.js';
import type { Context, Screen } from './types.js';

const APPLIES: Record<SettingView['applies'], string> = {
  live: 'applies at once',
  'new-sessions': 'applies to new sessions',
  listeners: 'restarts the listeners',
  start: 'applies at the next start',
};

/** The control for a setting, and its value as it would be written in the file. */
interface Control {
  element: HTMLElement;
  input: HTMLInputElement | HTMLSelectElement;
  value(): string;
}

function inputFor(setting: SettingView): Control {
  const attrs = { id: `setting-${setting.name}`, name: setting.name, 'data-setting': setting.name };
  const plain = (input: HTMLInputElement | HTMLSelectElement): Control => ({ element: input, input, value: () => input.value });
  const options = (values: readonly string[], label: (v: string) => string = (v) => (v === '' ? '(empty)' : v)) => {
    const all = values.includes(setting.value) ? values : [...values, setting.value];
    return plain(h('select', attrs, all.map((v) => h('option', { value: v, selected: v === setting.value }, label(v)))));
  };
  // On/off settings are switches; the file keeps Courier's YES/NO or 1/0.
  const onOff = (on: string, off: string): Control | null => {
    if (setting.value !== on && setting.value !== off) return null;
    const input = h('input', { ...attrs, type: 'checkbox', role: 'switch', checked: setting.value === on, class: 'switch-input' });
    const element = h('label', { class: 'switch-row small', for: attrs.id }, input, h('span', { class: 'switch' }), h('span', { class: 'switch-state' }, setting.value === on ? 'on' : 'off'));
    input.addEventListener('change', () => (element.querySelector('.switch-state')!.textContent = input.checked ? 'on' : 'off'));
    return { element, input, value: () => (input.checked ? on : off) };
  };
  switch (setting.kind) {
    case 'yesno':
      return onOff('YES', 'NO') ?? options(['YES', 'NO']);
    case 'boolean':
      return onOff('1', '0') ?? options(['1', '0'], (v) => (v === '1' ? '1 (on)' : v === '0' ? '0 (off)' : v));
    case 'choice':
      return options(setting.choices ?? []);
    case 'tls-protocol':
      return options(['TLSv1.2', 'TLSv1.3']);
    case 'integer':
      return plain(h('input', { ...attrs, value: setting.value, inputmode: 'numeric', autocomplete: 'off', class: 'short' }));
    default:
      return plain(h('input', { ...attrs, value: setting.value, autocomplete: 'off', spellcheck: 'false' }));
  }
}

/** "= 64 MB" or "= 5 min" beside a number, or nothing. */
function inWords(name: string, value: string): string {
  const unit = labelOf(name).unit;
  if (!unit || !/^\d{1,15}$/.test(value.trim())) return '';
  const n = Number(value);
  return unit === 'bytes' ? `= ${bytes(n)}` : `= ${duration(n)}`;
}

/** Only a value that differs from the default can be returned to it. */
function differsFromDefault(s: SettingView): boolean {
  return s.source !== 'default' && (s.reference ?? s.value) !== s.default;
}

function describeSource(setting: SettingView): string {
  if (setting.source === 'default') return 'default value';
  const file = setting.source.file.split(/[/\\]/).pop();
  return `set in ${file}${setting.source.line ? ` line ${setting.source.line}` : ''}${setting.reference ? ` as ${setting.reference}` : ''}`;
}

export function settingsScreen(ctx: Context): Screen {
  const element = h('section', { class: 'screen' });
  const form = h('form', { id: 'settings-form', autocomplete: 'off' });
  const applyBar = h('div', { id: 'apply-bar', class: 'apply-bar' });
  const fileTools = h('div', { id: 'config-files', class: 'card' });
  let view: SettingsView | null = null;
  let changes: SettingChanges = {};
  let lastCheck: ValidationResult | null = null;
  let checkTimer: ReturnType<typeof setTimeout> | undefined;
  let checkSerial = 0;
  const applyButton = h('button', { type: 'button', class: 'primary', id: 'apply-settings', disabled: true }, 'Apply');
  const discardButton = h('button', { type: 'button', id: 'discard-settings', disabled: true }, 'Discard changes');
  const summary = h('div', { class: 'summary', role: 'status' });

  function showProblems(result: ValidationResult | null): void {
    for (const el of form.querySelectorAll<HTMLElement>('.field-error, .field-warning')) el.textContent = '';
    for (const el of form.querySelectorAll('.invalid')) el.classList.remove('invalid');
    const general: SettingProblem[] = [];
    for (const problem of result?.errors ?? []) {
      const slot = problem.setting ? form.querySelector<HTMLElement>(`.field-error[data-for="${problem.setting}"]`) : null;
      if (slot) {
        slot.textContent = slot.textContent ? `${slot.textContent}; ${problem.message}` : problem.message;
        form.querySelector(`[data-setting="${problem.setting}"]`)?.classList.add('invalid');
      } else general.push(problem);
    }
    for (const problem of result?.warnings ?? []) {
      const slot = problem.setting ? form.querySelector<HTMLElement>(`.field-warning[data-for="${problem.setting}"]`) : null;
      if (slot) slot.textContent = problem.message;
      else general.push(problem);
    }
    const count = Object.keys(changes).length;
    applyButton.disabled = count === 0 || !result || !result.ok;
    discardButton.disabled = count === 0;
    replaceChildren(
      summary,
      count === 0 ? 'No changes.' : `${count} change${count === 1 ? '' : 's'}: ${Object.keys(changes).join(', ')}.`,
      result && count > 0 ? h('ul', { class: 'effects' }, result.effects.map((e) => h('li', {}, e))) : null,
      general.length ? h('ul', { class: 'problems', role: 'alert' }, general.map((p) => h('li', {}, p.setting ? `${p.setting}: ${p.message}` : p.message))) : null,
      result && result.errors.length > general.length
        ? h('div', { class: 'problems' }, `Fix first: ${result.errors.filter((e) => e.setting && !general.includes(e)).map((e) => e.setting).join(', ')} (the message is under each setting).`)
        : null,
    );
  }

  function scheduleCheck(): void {
    clearTimeout(checkTimer);
    lastCheck = null;
    applyButton.disabled = true;
    discardButton.disabled = Object.keys(changes).length === 0;
    if (Object.keys(changes).length === 0) {
      showProblems(null);
      return;
    }
    checkTimer = setTimeout(() => {
      const serial = ++checkSerial;
      ctx.api.validateSettings(changes).then(
        (result) => {
          if (serial !== checkSerial) return;
          lastCheck = result;
          showProblems(result);
        },
        (err: unknown) => {
          if (serial === checkSerial) showProblems({ ok: false, errors: [{ setting: null, message: (err as Error).message }], warnings: [], effects: [] });
        },
      );
    }, 250);
  }

  const search = h('input', { type: 'search', id: 'settings-search', placeholder: 'Search all settings', 'aria-label': 'Search all settings', autocomplete: 'off' });
  search.addEventListener('input', () => applySearch());

  /** Show the settings whose label, name or meaning has every word typed; open Advanced when it has some. */
  function applySearch(): void {
    const words = search.value.toLowerCase().split(/\s+/).filter(Boolean);
    let shown = 0;
    for (const row of form.querySelectorAll<HTMLElement>('.setting')) {
      const hit = words.every((w) => (row.dataset.search ?? '').includes(w));
      row.hidden = !hit;
      if (hit) shown++;
    }
    for (const group of form.querySelectorAll<HTMLElement>('fieldset.group')) group.hidden = !group.querySelector('.setting:not([hidden])');
    const advanced = form.querySelector<HTMLDetailsElement>('#advanced-settings');
    if (advanced && words.length) advanced.open = Boolean(advanced.querySelector('.setting:not([hidden])'));
    const none = form.querySelector<HTMLElement>('#settings-none');
    if (none) none.hidden = shown > 0;
  }

  /** ACCOUNTS' "Test connection": connects to the store the field names now (saved or not) and says what it found. */
  function accountStoreTest(control: Control): HTMLElement {
    const button = h('button', { type: 'button', class: 'secondary', 'data-action': 'test-accounts' }, 'Test connection');
    const result = h('span', { class: 'hint', 'data-test-result': 'ACCOUNTS', role: 'status' });
    button.addEventListener('click', () => {
      button.disabled = true;
      result.textContent = 'Connecting...';
      result.className = 'hint';
      ctx.api.testAccountStore(control.value()).then(
        (r) => {
          result.textContent = r.message;
          result.className = r.ok ? 'hint ok' : 'field-error';
        },
        (err: unknown) => {
          result.textContent = (err as Error).message;
          result.className = 'field-error';
        },
      ).finally(() => (button.disabled = false));
    });
    return h('span', { class: 'inline-test' }, button, result);
  }

  function row(s: SettingView): HTMLElement {
    const control = inputFor(s);
    const input = control.input;
    const words = h('span', { class: 'in-words hint' }, inWords(s.name, s.value));
    const onChange = () => {
      const before = changes[s.name];
      const value = control.value();
      if (value === s.value && before !== null) delete changes[s.name];
      else changes[s.name] = value;
      input.classList.toggle('changed', s.name in changes);
      words.textContent = inWords(s.name, value);
      // A text field fires 'change' again when it loses focus (to the Apply button): nothing new to check then.
      if (changes[s.name] !== before) scheduleCheck();
    };
    input.addEventListener(input instanceof HTMLSelectElement || input.type === 'checkbox' ? 'change' : 'input', onChange);
    const reset = differsFromDefault(s)
      ? h('button', { type: 'button', class: 'link', title: `Remove ${s.name} from the file so that its default applies` }, 'use default')
      : null;
    reset?.addEventListener('click', () => {
      changes[s.name] = null;
      input.classList.add('changed');
      scheduleCheck();
    });
    const label = labelOf(s.name).label;
    return h('div', { class: 'setting', 'data-setting-row': s.name, 'data-search': `${label} ${s.name} ${s.meaning}`.toLowerCase() },
      h('div', { class: 'setting-head' },
        h('label', { for: input.id, class: 'plain-label' }, label),
        h('code', { class: 'courier-name' }, s.name),
        h('span', { class: `applies ${s.applies}` }, APPLIES[s.applies]),
        s.ours ? h('span', { class: 'badge' }, 'imapd-ts') : null,
      ),
      h('div', { class: 'setting-input' }, control.element, words, reset, s.name === 'ACCOUNTS' ? accountStoreTest(control) : null),
      h('div', { class: 'meaning' }, s.meaning),
      h('div', { class: 'hint' }, `Default: ${s.default === '' ? '(empty)' : s.default}${inWords(s.name, s.default) ? ` (${inWords(s.name, s.default).slice(2)})` : ''} - now ${describeSource(s)} - file ${s.file}`),
      h('div', { class: 'field-error', 'data-for': s.name, role: 'alert' }),
      h('div', { class: 'field-warning', 'data-for': s.name }),
    );
  }

  function render(): void {
    if (!view) return;
    const v = view;
    const basic = v.settings.filter((s) => labelOf(s.name).basic);
    const groups = SETTING_GROUPS.map((group) => {
      const settings = v.settings.filter((s) => s.group === group.id && !labelOf(s.name).basic);
      if (settings.length === 0) return null;
      return h('fieldset', { class: 'group', 'data-group': group.id }, h('legend', {}, group.title), settings.map(row));
    });
    const wasOpen = form.querySelector<HTMLDetailsElement>('#advanced-settings')?.open ?? false;
    replaceChildren(form,
      h('fieldset', { class: 'group', 'data-group': 'basic' }, h('legend', {}, 'Basic'), basic.map(row)),
      h('details', { id: 'advanced-settings', class: 'advanced', open: wasOpen }, h('summary', {}, 'Advanced settings'), groups),
      h('p', { id: 'settings-none', class: 'empty', hidden: true }, 'No setting matches.'),
    );
    replaceChildren(applyBar, summary, h('div', { class: 'actions' }, discardButton, applyButton));
    showProblems(lastCheck);
    applySearch();
    renderFileTools(v);
  }

  function showResult(result: ApplyResult, what: string): void {
    if (result.applied) {
      ctx.toast(`${what} saved${result.restartedListeners ? '; the listeners restarted' : ''}.`);
      changes = {};
      lastCheck = null;
      void load();
    } else {
      lastCheck = result;
      showProblems(result);
      ctx.toast(`${what} not applied: ${result.errors.map((e) => (e.setting ? `${e.setting}: ${e.message}` : e.message)).join('; ')}`, 'error');
    }
  }

  applyButton.addEventListener('click', () => {
    applyButton.disabled = true;
    ctx.api.applySettings(changes).then(
      (result) => showResult(result, 'Settings'),
      (err: unknown) => ctx.toast((err as Error).message, 'error'),
    );
  });
  discardButton.addEventListener('click', () => {
    changes = {};
    lastCheck = null;
    render();
  });

  function renderFileTools(v: SettingsView): void {
    const perFile = (which: ConfigFileName) => {
      const exportButton = h('button', { type: 'button', 'data-export': which }, `Export ${which}`);
      exportButton.addEventListener('click', () => {
        ctx.api.exportCourierConfig(which).then((text) => {
          const link = h('a', { href: URL.createObjectURL(new Blob([text], { type: 'text/plain' })), download: which });
          link.click();
          setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
        }, (err: unknown) => ctx.toast((err as Error).message, 'error'));
      });
      const picker = h('input', { type: 'file', id: `import-${which}`, 'data-import': which, accept: '.conf,.txt,text/plain,*' });
      picker.addEventListener('change', () => {
        const file = picker.files?.[0];
        if (!file) return;
        file.text().then((text) => ctx.api.importCourierConfig(text, which)).then(
          (result) => showResult(result, `Imported ${which}`),
          (err: unknown) => ctx.toast((err as Error).message, 'error'),
        ).finally(() => (picker.value = ''));
      });
      return h('div', { class: 'file-row' },
        h('code', {}, v.files[which]),
        exportButton,
        h('label', { for: picker.id, class: 'button' }, `Import ${which}...`),
        picker,
      );
    };
    replaceChildren(
      fileTools,
      h('h3', {}, 'Courier configuration files'),
      h('p', { class: 'hint' }, 'The settings live in these two files, in Courier-IMAP\'s format: an existing Courier configuration can be imported (settings this server does not use are kept and reported), and the files can be taken to a Courier server.'),
      perFile('imapd'),
      perFile('imapd-ssl'),
      v.warnings.length ? h('ul', { class: 'warnings' }, v.warnings.map((w) => h('li', {}, w))) : null,
    );
  }

  async function load(): Promise<void> {
    try {
      view = await ctx.api.getSettings();
      render();
    } catch (err) {
      ctx.toast(`Cannot read the settings: ${(err as Error).message}`, 'error');
    }
  }

  element.append(h('h2', {}, 'Settings'), h('div', { class: 'toolbar' }, search), applyBar, form, fileTools);
  return {
    id: 'settings',
    title: 'Settings',
    element,
    shown() {
      if (Object.keys(changes).length === 0) void load();
    },
    onEvent(event) {
      if (event.type === 'settings' && Object.keys(changes).length === 0 && !element.hidden) void load();
    },
  };
}
