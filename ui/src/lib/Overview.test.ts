import { fireEvent, render, screen } from '@testing-library/svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import Overview from './Overview.svelte';
import { setInvoke, type Overview as OverviewData } from './api';
import { fakeInvoke } from './test-fixtures';

const AT = Date.UTC(2026, 10, 29, 18, 30);

const data: OverviewData = {
  overview: {
    at: AT,
    summary: { total: 12, online: 9, degraded: 2, offline: 1, neverSeen: 1 },
    versions: [{ key: '7.16.2', devices: 8 }],
    cpu: [{ key: 0, devices: 9 }],
    topCpu: [{ deviceId: 'd7', name: 'core-7', value: 87.4, checkedInAt: AT }],
    pressure: { memoryHigh: 1, storageHigh: 2, thresholdPct: 90, topMemory: [], topStorage: [] },
    checkinsPerHour: [],
  },
  charts: {
    states: '<svg><text>states</text></svg>',
    versions: '<svg><text>7.16.2</text></svg>',
    cpu: '<svg/>',
    checkins: '<svg/>',
  },
};

const backend = fakeInvoke;

afterEach(() => setInvoke());

describe('Overview', () => {
  it('shows counts, the four charts, the busiest routers and when it was read', async () => {
    const calls = backend({
      fleet_overview: () => data,
      demo_status: () => ({ running: false, routers: 0, site: 'Demo (simulated)', tag: 'simulated' }),
    });
    const onselect = vi.fn();
    render(Overview, { props: { theme: 'dark', intervalSecs: 30, onerror: vi.fn(), onselect } });
    await vi.waitFor(() => expect(screen.getByTestId('stat-total').textContent).toContain('12'));
    expect(screen.getByTestId('stat-online').textContent).toContain('9');
    expect(screen.getByTestId('stat-offline').textContent).toContain('1');
    expect(screen.getByTestId('stat-pressure').textContent).toContain('3');
    for (const name of ['states', 'versions', 'cpu', 'checkins']) {
      const img = screen.getByTestId(`chart-${name}`).querySelector('img')!;
      expect(img.getAttribute('src')).toMatch(/^data:image\/svg\+xml/);
    }
    expect(decodeURIComponent(screen.getByTestId('chart-versions').querySelector('img')!.src)).toContain('7.16.2');
    expect(screen.getByTestId('overview-asof').textContent).toMatch(/^This laptop's store · as of /);
    expect(calls).toContainEqual(['fleet_overview', { theme: 'dark', intervalSecs: 30 }]);
    await fireEvent.click(screen.getByText('core-7'));
    expect(onselect).toHaveBeenCalledWith('d7');
  });

  it('saves the data of a chart as CSV and says where', async () => {
    const calls = backend({
      fleet_overview: () => data,
      demo_status: () => ({ running: false, routers: 0, site: '', tag: '' }),
      overview_csv: () => 'version,routers\n7.16.2,8\n',
      save_export: (a) => `/home/tech/Downloads/${a?.fileName as string}`,
    });
    render(Overview, { props: { onerror: vi.fn() } });
    const csv = await vi.waitFor(() => screen.getByLabelText('Save RouterOS versions data as CSV'));
    await fireEvent.click(csv);
    await vi.waitFor(() => expect(screen.getByTestId('export-saved').textContent).toContain('/home/tech/Downloads/fleetdeck-versions-'));
    const save = calls.find(([c]) => c === 'save_export')!;
    expect(save[1]!.fileName).toMatch(/^fleetdeck-versions-\d{8}-\d{4}\.csv$/);
    expect(new TextDecoder().decode(new Uint8Array(save[1]!.contents as number[]))).toBe('version,routers\n7.16.2,8\n');
  });

  it('reports a failure through onerror and keeps the demo button usable', async () => {
    const onerror = vi.fn();
    backend({
      fleet_overview: () => {
        throw { kind: 'store', message: 'The fleet database is locked.' };
      },
      demo_status: () => ({ running: false, routers: 0, site: '', tag: '' }),
    });
    render(Overview, { props: { onerror } });
    await vi.waitFor(() => expect(onerror).toHaveBeenCalledWith({ kind: 'store', message: 'The fleet database is locked.' }));
    expect((screen.getByTestId('demo-toggle') as HTMLButtonElement).disabled).toBe(false);
  });
});
