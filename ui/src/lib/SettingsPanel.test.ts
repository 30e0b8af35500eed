import { fireEvent, render, screen } from '@testing-library/svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import SettingsPanel from './SettingsPanel.svelte';
import { setInvoke, type Settings } from './api';
import { fakeInvoke } from './test-fixtures';

afterEach(() => setInvoke());

const settings: Settings = {
  theme: 'light',
  pollIntervalSecs: 60,
  backgroundPolling: true,
  pushConcurrency: 32,
  codepage: 'windows-1252',
  backupSchedule: { everyHours: 24, overrides: [] },
  sensitiveBackups: false,
};

const sites = [
  { id: 's1', name: 'Lab' },
  { id: 's2', name: 'Office' },
];

/** The panel over `schedule` with the sites listed; `onsave` accepts. */
function renderSchedule(schedule: Settings['backupSchedule'] = settings.backupSchedule) {
  fakeInvoke({ list_sites: () => sites });
  const onsave = vi.fn().mockResolvedValue(true);
  const onclose = vi.fn();
  render(SettingsPanel, { props: { settings: { ...settings, backupSchedule: schedule }, onsave, onclose } });
  return { onsave, onclose };
}

const rows = () => screen.queryAllByTestId('backup-override');
function field<T extends HTMLElement = HTMLInputElement>(row: HTMLElement, testid: string): T {
  const el = row.querySelector<T>(`[data-testid="${testid}"]`);
  if (!el) throw new Error(`no ${testid} in the row`);
  return el;
}
const saveButton = () => screen.getByTestId('settings-save') as HTMLButtonElement;

describe('SettingsPanel', () => {
  it('shows the loaded backup schedule: the interval and each exception', async () => {
    renderSchedule({
      everyHours: 12,
      overrides: [
        { scope: { kind: 'tag', tag: 'core' }, everyHours: 1 },
        { scope: { kind: 'site', siteId: 's2' }, everyHours: 0 },
      ],
    });
    expect((screen.getByTestId('backup-every-hours') as HTMLInputElement).value).toBe('12');
    expect(screen.getByTestId('settings').textContent).toContain('0: no scheduled backups');
    const [tag, site] = rows();
    expect(rows()).toHaveLength(2);
    expect(field<HTMLSelectElement>(tag, 'backup-override-scope').value).toBe('tag');
    expect(field(tag, 'backup-override-tag').value).toBe('core');
    expect(field(tag, 'backup-override-hours').value).toBe('1');
    expect(site.querySelector('[data-testid="backup-override-tag"]')).toBeNull();
    expect(field(site, 'backup-override-hours').value).toBe('0');
    // The site by its name once the sites are listed.
    await vi.waitFor(() => {
      const select = field<HTMLSelectElement>(site, 'backup-override-scope');
      expect(select.value).toBe('site:s2');
      expect(select.selectedOptions[0].textContent).toBe('site Office');
    });
  });

  it('saves the changed interval and an exception for a tag', async () => {
    const { onsave, onclose } = renderSchedule();
    expect(rows()).toHaveLength(0);
    await fireEvent.input(screen.getByTestId('backup-every-hours'), { target: { value: '6' } });
    await fireEvent.click(screen.getByTestId('backup-override-add'));
    const [row] = rows();
    await fireEvent.change(field(row, 'backup-override-scope'), { target: { value: 'tag' } });
    // A tag is needed before it saves.
    expect(saveButton().disabled).toBe(true);
    expect(row.textContent).toContain('Enter the tag the routers carry.');
    await fireEvent.input(field(row, 'backup-override-tag'), { target: { value: ' core ' } });
    await fireEvent.input(field(row, 'backup-override-hours'), { target: { value: '1' } });
    expect(saveButton().disabled).toBe(false);
    await fireEvent.click(saveButton());
    await vi.waitFor(() => expect(onclose).toHaveBeenCalled());
    expect(onsave).toHaveBeenCalledTimes(1);
    expect(onsave).toHaveBeenCalledWith({
      ...settings,
      backupSchedule: { everyHours: 6, overrides: [{ scope: { kind: 'tag', tag: 'core' }, everyHours: 1 }] },
    });
  });

  it('saves an exception for a site chosen from the listed sites', async () => {
    const { onsave } = renderSchedule();
    await fireEvent.click(screen.getByTestId('backup-override-add'));
    const [row] = rows();
    const select = field<HTMLSelectElement>(row, 'backup-override-scope');
    await vi.waitFor(() =>
      expect([...select.options].map((o) => o.textContent)).toEqual(['site Lab', 'site Office', 'routers tagged']),
    );
    await fireEvent.change(select, { target: { value: 'site:s2' } });
    await fireEvent.input(field(row, 'backup-override-hours'), { target: { value: '0' } });
    await fireEvent.click(saveButton());
    await vi.waitFor(() => expect(onsave).toHaveBeenCalledTimes(1));
    expect(onsave.mock.calls[0][0].backupSchedule).toEqual({
      everyHours: 24,
      overrides: [{ scope: { kind: 'site', siteId: 's2' }, everyHours: 0 }],
    });
  });

  it('refuses more than 720 hours without saving', async () => {
    const { onsave } = renderSchedule({
      everyHours: 24,
      overrides: [{ scope: { kind: 'tag', tag: 'core' }, everyHours: 1 }],
    });
    await fireEvent.input(screen.getByTestId('backup-every-hours'), { target: { value: '721' } });
    expect(screen.getByTestId('backup-every-hours').getAttribute('aria-invalid')).toBe('true');
    expect(screen.getByTestId('backup-schedule').textContent).toContain('A whole number of hours from 0 to 720');
    expect(saveButton().disabled).toBe(true);
    await fireEvent.submit(saveButton().form!);
    expect(onsave).not.toHaveBeenCalled();

    // An exception's hours too.
    await fireEvent.input(screen.getByTestId('backup-every-hours'), { target: { value: '720' } });
    expect(saveButton().disabled).toBe(false);
    const [row] = rows();
    await fireEvent.input(field(row, 'backup-override-hours'), { target: { value: '721' } });
    expect(row.textContent).toContain('A whole number of hours from 0 to 720');
    expect(saveButton().disabled).toBe(true);
    await fireEvent.submit(saveButton().form!);
    expect(onsave).not.toHaveBeenCalled();
  });

  it('saves without an exception that was removed', async () => {
    const { onsave } = renderSchedule({
      everyHours: 24,
      overrides: [
        { scope: { kind: 'tag', tag: 'core' }, everyHours: 1 },
        { scope: { kind: 'site', siteId: 's1' }, everyHours: 0 },
      ],
    });
    await fireEvent.click(field(rows()[0], 'backup-override-remove'));
    expect(rows()).toHaveLength(1);
    await fireEvent.click(saveButton());
    await vi.waitFor(() => expect(onsave).toHaveBeenCalledTimes(1));
    expect(onsave.mock.calls[0][0].backupSchedule).toEqual({
      everyHours: 24,
      overrides: [{ scope: { kind: 'site', siteId: 's1' }, everyHours: 0 }],
    });
  });

  it('shows whether backups also keep their secrets, sealed', () => {
    render(SettingsPanel, { props: { settings: { ...settings, sensitiveBackups: true }, onsave: vi.fn(), onclose: vi.fn() } });
    const box = screen.getByTestId('sensitive-backups') as HTMLInputElement;
    expect(box.checked).toBe(true);
    expect(screen.getByTestId('backup-schedule').contains(box)).toBe(true);
  });

  it('leaves the sealed backups unticked when they are off', () => {
    render(SettingsPanel, { props: { settings, onsave: vi.fn(), onclose: vi.fn() } });
    expect((screen.getByTestId('sensitive-backups') as HTMLInputElement).checked).toBe(false);
  });

  it('saves backups kept with their secrets once ticked', async () => {
    const { onsave, onclose } = renderSchedule();
    await fireEvent.click(screen.getByTestId('sensitive-backups'));
    await fireEvent.click(saveButton());
    await vi.waitFor(() => expect(onclose).toHaveBeenCalled());
    expect(onsave).toHaveBeenCalledTimes(1);
    expect(onsave).toHaveBeenCalledWith({ ...settings, sensitiveBackups: true });
  });

  it("falls back to the page's own copy where the clipboard API is refused", async () => {
    fakeInvoke({ diagnostics: () => 'Store: sqlite' });
    Object.defineProperty(navigator, 'clipboard', {
      value: { writeText: vi.fn().mockRejectedValue(new Error('denied')) },
      configurable: true,
    });
    const copy = vi.fn().mockReturnValue(true);
    Object.defineProperty(document, 'execCommand', { value: copy, configurable: true });
    render(SettingsPanel, { props: { settings, onsave: vi.fn(), onclose: vi.fn() } });
    await fireEvent.click(screen.getByTestId('copy-diagnostics'));
    await vi.waitFor(() => expect(screen.getByTestId('diagnostics-note').textContent).toContain('Copied to the clipboard'));
    expect(copy).toHaveBeenCalledWith('copy');
  });

  it('gathers the diagnostics, shows them and copies them to the clipboard', async () => {
    const calls = fakeInvoke({ diagnostics: () => 'Fleetdeck 0.1.0 on linux\nStore: sqlite at /data/fleet.db' });
    const writeText = vi.fn().mockResolvedValue(undefined);
    Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true });
    render(SettingsPanel, { props: { settings, onsave: vi.fn(), onclose: vi.fn() } });
    await fireEvent.click(screen.getByTestId('copy-diagnostics'));
    await vi.waitFor(() => expect(screen.getByTestId('diagnostics-note').textContent).toContain('Copied to the clipboard'));
    expect(calls).toContainEqual(['diagnostics', undefined]);
    expect(writeText).toHaveBeenCalledWith('Fleetdeck 0.1.0 on linux\nStore: sqlite at /data/fleet.db');
    expect((screen.getByTestId('diagnostics') as HTMLTextAreaElement).value).toContain('Store: sqlite');
  });

  it('leaves the text to select by hand when the clipboard cannot be reached', async () => {
    fakeInvoke({ diagnostics: () => 'Store: sqlite' });
    Object.defineProperty(navigator, 'clipboard', {
      value: { writeText: vi.fn().mockRejectedValue(new Error('denied')) },
      configurable: true,
    });
    // Nor does the page's own copy work.
    Object.defineProperty(document, 'execCommand', { value: () => false, configurable: true });
    render(SettingsPanel, { props: { settings, onsave: vi.fn(), onclose: vi.fn() } });
    await fireEvent.click(screen.getByTestId('copy-diagnostics'));
    await vi.waitFor(() => expect(screen.getByTestId('diagnostics-note').textContent).toContain('press Ctrl+C'));
    expect((screen.getByTestId('diagnostics') as HTMLTextAreaElement).value).toBe('Store: sqlite');
  });
});
