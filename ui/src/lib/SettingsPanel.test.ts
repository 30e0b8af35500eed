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
};

describe('SettingsPanel', () => {
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
