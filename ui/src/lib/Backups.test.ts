import { fireEvent, render, screen } from '@testing-library/svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import Backups from './Backups.svelte';
import DeviceConfig from './DeviceConfig.svelte';
import {
  setInvoke,
  type ConfigVersion,
  type PushStatus,
  type RestoreCheck,
  type RestorePreview,
  type RestoreReport,
  type RouterBackupStatus,
} from './api';
import { fakeInvoke, type Handler } from './test-fixtures';

afterEach(() => setInvoke());

/** The Compliance section's commands, with no rule yet. */
const NO_RULES = {
  compliance_rules: () => [],
  list_sites: () => [],
  config_check: () => ({ routers: [], rules: [] }),
};

function version(id: string, takenAt: number, over: Partial<ConfigVersion> = {}): ConfigVersion {
  return {
    id,
    deviceId: 'r1',
    takenAt,
    checkedAt: takenAt,
    hash: id.repeat(8),
    routerosVersion: '7.16.2 (stable)',
    board: 'RB5009UG+S+',
    serial: 'HG0001',
    pushId: null,
    drift: false,
    lineCount: 42,
    ...over,
  };
}

describe('Backups', () => {
  it('lists each router standing, backs up on demand and says what changed', async () => {
    let status: RouterBackupStatus[] = [
      { deviceId: 'r1', name: 'edge-1', latest: version('a', Date.UTC(2026, 11, 1)), lastFailure: null, lastFailureAt: null, rulesFailed: [] },
      { deviceId: 'r2', name: 'edge-2', latest: null, lastFailure: null, lastFailureAt: null, rulesFailed: [] },
    ];
    const calls = fakeInvoke({
      ...NO_RULES,
      backup_status: () => status,
      backup_routers: () => {
        status = [
          { ...status[0], latest: version('b', Date.UTC(2026, 11, 2), { drift: true }) },
          { ...status[1], lastFailure: 'Invalid user name or password.', lastFailureAt: Date.UTC(2026, 11, 2) },
        ];
        return {
          routers: [],
          newVersions: 1,
          unchanged: 0,
          drift: 1,
          failed: 1,
          seconds: 1.5,
        };
      },
    });
    const onopen = vi.fn();
    render(Backups, { props: { onerror: vi.fn(), onopen } });
    await vi.waitFor(() => expect(screen.getAllByTestId('backup-row')).toHaveLength(2));
    expect(screen.getByTestId('backup-counts').textContent).toContain('1 never backed up');
    await fireEvent.click(screen.getByTestId('backup-now'));
    await vi.waitFor(() => expect(screen.getByTestId('backup-summary').textContent).toContain('1 new version (1 changed'));
    expect(calls).toContainEqual(['backup_routers', { deviceIds: null }]);
    await vi.waitFor(() => expect(screen.getAllByTestId('backup-row')[0].textContent).toContain('someone outside Fleetdeck'));
    const rows = screen.getAllByTestId('backup-row');
    expect(rows[1].textContent).toContain('failed: Invalid user name or password.');
    expect(screen.getByTestId('backup-counts').textContent).toContain('1 changed outside Fleetdeck · 1 failing');
    await fireEvent.click(screen.getByText('edge-1'));
    expect(onopen).toHaveBeenCalledWith('r1');
  });

  it('searches every router configuration and shows each line in its context', async () => {
    const calls = fakeInvoke({
      ...NO_RULES,
      backup_status: () => [],
      config_search: () => [
        { name: 'edge-1', deviceId: 'r1', lineNo: 7, line: '/ip service set api address=0.0.0.0/0', before: '/ip dns set servers=1.1.1.1', after: null },
      ],
    });
    const onopen = vi.fn();
    render(Backups, { props: { onerror: vi.fn(), onopen } });
    await fireEvent.input(screen.getByTestId('config-search-text'), { target: { value: '/ip service set api' } });
    await fireEvent.submit(screen.getByTestId('config-search'));
    await vi.waitFor(() => expect(screen.getAllByTestId('config-hit')).toHaveLength(1));
    expect(calls).toContainEqual(['config_search', { text: '/ip service set api' }]);
    const hit = screen.getByTestId('config-hit').textContent ?? '';
    expect(hit).toContain('line 7');
    expect(hit).toContain('/ip dns set servers=1.1.1.1');
    expect(hit).toContain('address=0.0.0.0/0');
    await fireEvent.click(screen.getByText('edge-1'));
    expect(onopen).toHaveBeenCalledWith('r1');
  });
});

describe('DeviceConfig', () => {
  it('compares the last change by default, and any version with the router now', async () => {
    const calls = fakeInvoke({
      config_log: () => [version('new', 2, { drift: true }), version('old', 1)],
      config_diff: (a) => ({
        from: String(a?.from),
        to: a?.to === null ? 'the router now' : String(a?.to),
        diff: '--- old\n+++ new\n-/system identity set name=a\n+/system identity set name=b\n',
      }),
    });
    render(DeviceConfig, { props: { deviceId: 'r1', onerror: vi.fn() } });
    await vi.waitFor(() => expect(screen.getAllByTestId('config-version')).toHaveLength(2));
    expect(screen.getAllByTestId('config-version')[0].textContent).toContain('changed outside Fleetdeck');
    await fireEvent.click(screen.getByTestId('config-compare'));
    await vi.waitFor(() => expect(screen.getByTestId('config-diff').querySelector('.add')!.textContent).toContain('name=b'));
    expect(calls).toContainEqual(['config_diff', { deviceId: 'r1', from: 'old', to: 'new' }]);
    await fireEvent.click(screen.getByTestId('config-compare-live'));
    await vi.waitFor(() => expect(screen.getByTestId('config-diff-title').textContent).toContain('the router now'));
    expect(calls).toContainEqual(['config_diff', { deviceId: 'r1', from: 'old', to: null }]);
  });

  // The router now holds name=b; version "old" holds name=a.
  const BACK_TO_OLD = '--- the router now\n+++ old\n-/system identity set name=b\n+/system identity set name=a\n';

  function preview(diff: string, removals = 1): RestorePreview {
    const set = { kind: 'setSingleton', menu: '/system/identity', props: { name: 'a' } } as const;
    const remove = { kind: 'remove', menu: '/ip/address', find: { address: '10.9.9.9/24' } } as const;
    return {
      version: version('old', 1),
      plan: { steps: diff ? [{ line: 1, action: remove }, { line: 2, action: set }] : [] },
      removals,
      diff,
    };
  }

  function report(check: RestoreCheck, message: string, status: PushStatus = 'succeeded'): RestoreReport {
    return {
      versionId: 'old',
      push: { pushId: 'p1', status, steps: [], backup: 'fleetdeck-p1', safetyNet: null, message: 'Pushed 2 steps' },
      check,
      message,
    };
  }

  /** Versions new and old, with the restore's own on top once one was asked for; the rest by `handlers`. */
  function restoreInvoke(handlers: Record<string, Handler>) {
    const calls = fakeInvoke({
      config_log: () => {
        const restored = calls.some(([cmd]) => cmd === 'restore_router');
        return [...(restored ? [version('back', 3, { pushId: 'p1' })] : []), version('new', 2), version('old', 1)];
      },
      ...handlers,
    });
    return calls;
  }

  async function openRestore(row: number) {
    await vi.waitFor(() => expect(screen.getAllByTestId('config-version')).toHaveLength(2));
    await fireEvent.click(screen.getAllByTestId('restore-open')[row]);
  }

  const commands = (calls: ReturnType<typeof fakeInvoke>) => calls.map(([cmd]) => cmd);

  it('previews a restore with its diff, steps and removals, and changes nothing until told', async () => {
    const calls = restoreInvoke({ restore_preview: () => preview(BACK_TO_OLD) });
    render(DeviceConfig, { props: { deviceId: 'r1', onerror: vi.fn() } });
    await openRestore(1);
    await vi.waitFor(() => expect(screen.getByTestId('restore-preview')).toBeTruthy());
    expect(calls).toContainEqual(['restore_preview', { deviceId: 'r1', versionId: 'old' }]);
    const diff = screen.getByTestId('restore-diff');
    expect(diff.querySelector('.add')!.textContent).toContain('name=a');
    expect(diff.querySelector('.del')!.textContent).toContain('name=b');
    expect(screen.getByTestId('restore-counts').textContent).toContain('2 steps, 1 removal');
    expect(screen.getByTestId('restore-preview').textContent).toMatch(/safety net.*after 10 minutes unless the restore is confirmed/s);
    expect(screen.getByTestId('restore-now')).toBeTruthy();
    await fireEvent.click(screen.getByTestId('restore-cancel'));
    expect(screen.queryByTestId('restore-panel')).toBeNull();
    expect(commands(calls)).not.toContain('restore_router');
  });

  it('restores on "Restore now", waits with its buttons disabled, shows the outcome and the new version', async () => {
    let finish!: (r: RestoreReport) => void;
    const calls = restoreInvoke({
      restore_preview: () => preview(BACK_TO_OLD),
      restore_router: () => new Promise<RestoreReport>((resolve) => (finish = resolve)),
    });
    const onerror = vi.fn();
    render(DeviceConfig, { props: { deviceId: 'r1', onerror } });
    await openRestore(1);
    await vi.waitFor(() => expect(screen.getByTestId('restore-now')).toBeTruthy());
    await fireEvent.click(screen.getByTestId('restore-now'));
    await vi.waitFor(() => expect(screen.getByTestId('restore-progress')).toBeTruthy());
    expect(calls).toContainEqual(['restore_router', { deviceId: 'r1', versionId: 'old' }]);
    expect((screen.getByTestId('restore-now') as HTMLButtonElement).disabled).toBe(true);
    expect((screen.getByTestId('restore-cancel') as HTMLButtonElement).disabled).toBe(true);
    expect(screen.getAllByTestId('restore-open').every((b) => (b as HTMLButtonElement).disabled)).toBe(true);
    finish(report({ kind: 'equal' }, "Pushed 2 steps; the router's configuration equals version old"));
    await vi.waitFor(() => expect(screen.getByTestId('restore-result').textContent).toContain('equals version old'));
    const result = screen.getByTestId('restore-result');
    expect(result.classList.contains('ok')).toBe(true);
    expect(result.dataset.kind).toBe('equal');
    expect(screen.queryByTestId('restore-now')).toBeNull();
    expect(screen.queryByTestId('restore-progress')).toBeNull();
    await vi.waitFor(() => expect(screen.getAllByTestId('config-version')).toHaveLength(3));
    expect(screen.getAllByTestId('config-version')[0].dataset.versionId).toBe('back');
    // The restore's version links to its push's record in the history.
    const link = screen.getByTestId('config-push-link') as HTMLAnchorElement;
    expect(link.getAttribute('href')).toBe('#push-p1');
    expect(commands(calls).filter((c) => c === 'restore_router')).toHaveLength(1);
    expect(onerror).not.toHaveBeenCalled();
  });

  it('says the router already holds a version with no difference, and offers no push', async () => {
    const calls = restoreInvoke({ restore_preview: () => preview('', 0) });
    render(DeviceConfig, { props: { deviceId: 'r1', onerror: vi.fn() } });
    await openRestore(0);
    await vi.waitFor(() => expect(screen.getByTestId('restore-preview').textContent).toContain('already holds this version'));
    expect(calls).toContainEqual(['restore_preview', { deviceId: 'r1', versionId: 'new' }]);
    expect(screen.queryByTestId('restore-now')).toBeNull();
    expect(screen.queryByTestId('restore-diff')).toBeNull();
    expect(commands(calls)).not.toContain('restore_router');
  });

  it('shows what still differs after a restore, as a failure', async () => {
    const still = '--- the router now\n+++ old\n-/ip dns set servers=9.9.9.9\n+/ip dns set servers=1.1.1.1\n';
    restoreInvoke({
      restore_preview: () => preview(BACK_TO_OLD),
      restore_router: () => report({ kind: 'differs', diff: still }, 'Pushed 2 steps; the router still differs from version old: see the diff'),
    });
    render(DeviceConfig, { props: { deviceId: 'r1', onerror: vi.fn() } });
    await openRestore(1);
    await vi.waitFor(() => expect(screen.getByTestId('restore-now')).toBeTruthy());
    await fireEvent.click(screen.getByTestId('restore-now'));
    await vi.waitFor(() => expect(screen.getByTestId('restore-result').textContent).toContain('still differs'));
    const result = screen.getByTestId('restore-result');
    expect(result.classList.contains('bad')).toBe(true);
    expect(result.querySelector('.add')!.textContent).toContain('servers=1.1.1.1');
    expect(result.querySelector('.del')!.textContent).toContain('servers=9.9.9.9');
  });

  it('shows why a restore was not compared, as a failure', async () => {
    restoreInvoke({
      restore_preview: () => preview(BACK_TO_OLD),
      restore_router: () =>
        report({ kind: 'notChecked', why: 'the restore did not finish' }, 'The push was rolled back', 'rolled-back'),
    });
    render(DeviceConfig, { props: { deviceId: 'r1', onerror: vi.fn() } });
    await openRestore(1);
    await vi.waitFor(() => expect(screen.getByTestId('restore-now')).toBeTruthy());
    await fireEvent.click(screen.getByTestId('restore-now'));
    await vi.waitFor(() => expect(screen.getByTestId('restore-result').textContent).toContain('rolled back'));
    const result = screen.getByTestId('restore-result');
    expect(result.textContent).toContain('Not compared: the restore did not finish');
    expect(result.classList.contains('bad')).toBe(true);
    expect(result.dataset.status).toBe('rolled-back');
  });

  it('hands a failed preview or restore to onerror', async () => {
    const refused = { kind: 'unreachable', message: 'The router at 10.0.0.1:8728 did not answer.' };
    let previewFails = true;
    restoreInvoke({
      restore_preview: () => {
        if (previewFails) throw refused;
        return preview(BACK_TO_OLD);
      },
      restore_router: () => {
        throw refused;
      },
    });
    const onerror = vi.fn();
    render(DeviceConfig, { props: { deviceId: 'r1', onerror } });
    await openRestore(1);
    await vi.waitFor(() => expect(onerror).toHaveBeenCalledWith(refused));
    expect(screen.queryByTestId('restore-panel')).toBeNull();
    previewFails = false;
    await fireEvent.click(screen.getAllByTestId('restore-open')[1]);
    await vi.waitFor(() => expect(screen.getByTestId('restore-now')).toBeTruthy());
    await fireEvent.click(screen.getByTestId('restore-now'));
    await vi.waitFor(() => expect(onerror).toHaveBeenCalledTimes(2));
    expect(screen.queryByTestId('restore-result')).toBeNull();
    expect((screen.getByTestId('restore-now') as HTMLButtonElement).disabled).toBe(false);
  });
});
