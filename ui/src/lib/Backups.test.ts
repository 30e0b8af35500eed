import { fireEvent, render, screen } from '@testing-library/svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import Backups from './Backups.svelte';
import DeviceConfig from './DeviceConfig.svelte';
import { setInvoke, type ConfigVersion, type RouterBackupStatus } from './api';
import { fakeInvoke } from './test-fixtures';

afterEach(() => setInvoke());

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
      { deviceId: 'r1', name: 'edge-1', latest: version('a', Date.UTC(2026, 11, 1)), lastFailure: null, lastFailureAt: null },
      { deviceId: 'r2', name: 'edge-2', latest: null, lastFailure: null, lastFailureAt: null },
    ];
    const calls = fakeInvoke({
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
});
