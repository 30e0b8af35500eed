import { fireEvent, render, screen, within } from '@testing-library/svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import App from './App.svelte';
import { setChannelFactory, setInvoke, type Checkin, type DemoStatus, type Device, type Overview, type StoreInfo } from './lib/api';
import { device, fakeInvoke, type Handler } from './lib/test-fixtures';

const NOW = Date.now();


const storeInfo: StoreInfo = {
  backend: 'sqlite',
  location: '/home/tech/.local/share/fleetdeck/fleet.db',
  credentials: {
    backend: 'file',
    warning: 'No OS keyring was found, so router passwords are stored in a file only you can read (0600).',
  },
};


export const emptyOverview: Overview = {
  overview: {
    at: NOW,
    summary: { total: 0, online: 0, degraded: 0, offline: 0, neverSeen: 0 },
    versions: [],
    cpu: [],
    topCpu: [],
    pressure: { memoryHigh: 0, storageHigh: 0, thresholdPct: 90, topMemory: [], topStorage: [] },
    checkinsPerHour: [],
  },
  charts: { states: '<svg/>', versions: '<svg/>', cpu: '<svg/>', checkins: '<svg/>' },
};

/** Device charts with `points` points. */
function charts(points: number, svg = '<svg/>') {
  return { from: 0, to: 1, resolution: 'raw', bucketMs: 1, points, cpuSvg: svg, memorySvg: svg, trafficSvg: svg };
}

const pollingOff = {
  enabled: false, intervalSecs: 60, routers: 0, withoutPassword: 0, addressChanged: 0, online: 0, degraded: 0, offline: 0,
  pollsOk: 0, pollsFailed: 0, rowsPending: 0, rowsSpooled: 0, rowsQuarantined: 0,
};

const demoOff: DemoStatus = { running: false, routers: 0, site: 'Demo (simulated)', tag: 'simulated' };

/** A scripted stand-in for the Rust side, recording every call. The
 * overview's commands answer "empty fleet, no demo" unless overridden. */
function fakeBackend(overrides: Record<string, Handler>) {
  const handlers: Record<string, Handler> = {
    fleet_overview: () => emptyOverview,
    demo_status: () => demoOff,
    get_settings: () => ({
      theme: 'light',
      pollIntervalSecs: 60,
      backgroundPolling: true,
      pushConcurrency: 32,
      codepage: 'windows-1252',
      backupSchedule: { everyHours: 24, overrides: [] },
      sensitiveBackups: false,
    }),
    device_history: () => ({ pushes: [], events: [], alerts: [], backups: [] }),
    config_log: () => [],
    list_templates: () => [],
    sync_status: () => ({ backend: 'sqlite', location: '/tmp/f.db', outboxEntries: 0, outboxRecords: 0, sharedUrl: null, lastSync: null }),
    list_sites: () => [],
    polling_status: () => pollingOff,
    device_charts: () => charts(0),
    credential_status: () => ({ state: 'stored' }),
    latest_checkin: () => null,
    interrupted_pushes: () => [],
    ...overrides,
  };
  return fakeInvoke(handlers);
}

afterEach(() => {
  setInvoke();
  setChannelFactory();
});

describe('App', () => {
  it('opens on the fleet overview; a router opens its detail', async () => {
    const calls = fakeBackend({
      store_info: () => storeInfo,
      list_devices: () => [
        device({ id: 'a', identity: 'edge-1', lastCheckinAt: NOW - 60_000, cpuLoad: 5 }),
        device({ id: 'b', host: '10.0.0.2' }),
      ],
      device_charts: () => charts(3),
    });
    render(App);

    await vi.waitFor(() => expect(screen.getAllByTestId('device-row')).toHaveLength(2));
    expect(screen.getByTestId('store-status').textContent).toContain(
      'Embedded store · /home/tech/.local/share/fleetdeck/fleet.db',
    );
    expect(screen.getByTestId('credentials-warning').textContent).toContain(storeInfo.credentials.warning);
    expect(screen.getByTestId('overview')).toBeTruthy();
    expect(calls.some(([c]) => c === 'device_charts')).toBe(false);

    // Sorted by name: the address-only router first.
    expect(screen.getAllByTestId('device-row')[0].textContent).toContain('10.0.0.2:8728');
    await fireEvent.input(screen.getByTestId('device-search'), { target: { value: 'EDGE' } });
    await vi.waitFor(() => expect(screen.getAllByTestId('device-row')).toHaveLength(1));
    expect(screen.getByTestId('device-shown').textContent).toBe('1 of 2 shown');
    await fireEvent.click(screen.getAllByTestId('device-row')[0]);
    await vi.waitFor(() => expect(screen.getByTestId('cpu-chart')).toBeTruthy());
    expect(screen.getByTestId('detail-title').textContent).toBe('edge-1');
    expect(calls).toContainEqual(['device_charts', { deviceId: 'a', windowSecs: 86_400, theme: 'light' }]);
  });

  it("shows a router's stored check-in although this window never polled it", async () => {
    const calls = fakeBackend({
      store_info: () => storeInfo,
      list_devices: () => [device({ id: 'a', identity: 'edge-1', lastCheckinAt: NOW - 10_000, state: 'online' })],
      latest_checkin: () => ({
        deviceId: 'a',
        checkedInAt: NOW - 10_000,
        cpuLoad: 7,
        cpuCount: 4,
        freeMemory: 512 * 1024 * 1024,
        totalMemory: 1024 * 1024 * 1024,
        freeHdd: 64 * 1024 * 1024,
        totalHdd: 128 * 1024 * 1024,
        uptimeSecs: 2 * 86_400 + 3_600,
        version: '7.16.2 (stable)',
        boardName: 'RB5009UG+S+',
        identity: 'edge-1',
        serial: null,
        rxBytes: 0,
        txBytes: 0,
        rxBps: 0,
        txBps: 0,
      }),
    });
    render(App);
    await vi.waitFor(() => expect(screen.getAllByTestId('device-row')).toHaveLength(1));
    await fireEvent.click(screen.getAllByTestId('device-row')[0]);
    await vi.waitFor(() => expect(screen.getByTestId('fact-uptime').textContent).toBe('2d 1h 0m'));
    expect(calls).toContainEqual(['latest_checkin', { deviceId: 'a' }]);
    expect(calls.some(([c]) => c === 'poll_device')).toBe(false);
  });

  it('hides the credentials warning when the keyring is used', async () => {
    fakeBackend({
      store_info: () => ({ ...storeInfo, credentials: { backend: 'keyring', warning: null } }),
      list_devices: () => [],
    });
    render(App);
    await vi.waitFor(() => expect(screen.getByTestId('store-status').textContent).toContain('OS keyring'));
    expect(screen.queryByTestId('credentials-warning')).toBeNull();
    expect(screen.getByTestId('device-list').textContent).toContain('No routers yet.');
  });

  it('polls the selected device, then refreshes the list and the chart', async () => {
    let polled = false;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const checkin: Checkin = {
      deviceId: 'a',
      checkedInAt: NOW,
      cpuLoad: 42,
      cpuCount: 2,
      freeMemory: 512 * 1024 * 1024,
      totalMemory: 1024 * 1024 * 1024,
      freeHdd: 1,
      totalHdd: 2,
      uptimeSecs: 3700,
      version: '7.16',
      boardName: 'hAP ax3',
      identity: 'edge-1',
      rxBytes: 0,
      txBytes: 0,
      serial: null,
      rxBps: 0,
      txBps: 0,
    };
    const calls = fakeBackend({
      store_info: () => storeInfo,
      list_devices: () => [
        polled
          ? device({ id: 'a', identity: 'edge-1', lastCheckinAt: NOW, cpuLoad: 42, version: '7.16' })
          : device({ id: 'a' }),
      ],
      poll_device: async () => {
        await gate;
        polled = true;
        return checkin;
      },
      device_charts: () => (polled ? charts(1, '<svg><text>ok</text></svg>') : charts(0)),
    });
    render(App);
    await vi.waitFor(() => expect(screen.getAllByTestId('device-row')).toHaveLength(1));
    await fireEvent.click(screen.getByTestId('device-row'));

    await vi.waitFor(() => expect(screen.getByTestId('chart-empty')).toBeTruthy());
    const button = screen.getByTestId('poll-now') as HTMLButtonElement;
    await fireEvent.click(button);
    await vi.waitFor(() => expect(button.disabled).toBe(true));

    release();
    await vi.waitFor(() => expect(screen.getByTestId('cpu-chart')).toBeTruthy());
    expect(button.disabled).toBe(false);
    expect(screen.getByTestId('detail-title').textContent).toBe('edge-1');
    expect(screen.getByTestId('fact-uptime').textContent).toBe('1h 1m');
    expect(screen.getByTestId('fact-memory').textContent).toBe('512 MiB / 1.0 GiB');
    const row = within(screen.getByTestId('device-row'));
    expect(row.getByText('42%')).toBeTruthy();
    expect(row.getByText('just now')).toBeTruthy();

    const cmds = calls.map(([c]) => c);
    expect(calls).toContainEqual(['poll_device', { deviceId: 'a' }]);
    expect(cmds.filter((c) => c === 'list_devices')).toHaveLength(2);
    expect(cmds.filter((c) => c === 'device_charts')).toHaveLength(2);
  });

  it('shows a failed poll verbatim in a dismissible banner', async () => {
    const message = 'The router at 10.0.0.1:8728 rejected the login for "admin". Check the username and password.';
    fakeBackend({
      store_info: () => storeInfo,
      list_devices: () => [device({ id: 'a' })],
      poll_device: () => {
        throw { kind: 'auth', message };
      },
    });
    render(App);
    await vi.waitFor(() => expect(screen.getAllByTestId('device-row')).toHaveLength(1));
    await fireEvent.click(screen.getByTestId('device-row'));
    await vi.waitFor(() => expect(screen.getByTestId('poll-now')).toBeTruthy());
    await fireEvent.click(screen.getByTestId('poll-now'));

    const banner = await vi.waitFor(() => screen.getByTestId('error-banner'));
    expect(banner.getAttribute('role')).toBe('alert');
    expect(banner.textContent).toContain(message);
    expect(banner.dataset.kind).toBe('auth');

    await fireEvent.click(screen.getByTestId('error-dismiss'));
    expect(screen.queryByTestId('error-banner')).toBeNull();
    // The rest of the page is still there.
    expect(screen.getByTestId('device-detail')).toBeTruthy();
  });

  it('adds a device, refreshes the list and selects it', async () => {
    const added = device({ id: 'new', host: '192.168.88.1', port: 8729 });
    let list: Device[] = [];
    const calls = fakeBackend({
      store_info: () => storeInfo,
      list_devices: () => list,
      add_device: () => {
        list = [added];
        return added;
      },
    });
    render(App);
    await vi.waitFor(() => expect(screen.getByTestId('device-list').textContent).toContain('No routers yet.'));

    await fireEvent.input(screen.getByTestId('add-host'), { target: { value: '192.168.88.1' } });
    await fireEvent.input(screen.getByTestId('add-port'), { target: { value: '8729' } });
    await fireEvent.input(screen.getByTestId('add-password'), { target: { value: 'pw' } });
    await fireEvent.click(screen.getByTestId('add-submit'));

    await vi.waitFor(() => expect(screen.getByTestId('device-detail').dataset.deviceId).toBe('new'));
    expect(calls).toContainEqual([
      'add_device',
      { input: { host: '192.168.88.1', port: 8729, username: 'admin', password: 'pw', transport: 'api-ssl' } },
    ]);
    expect(screen.getAllByTestId('device-row')).toHaveLength(1);
    expect((screen.getByTestId('add-password') as HTMLInputElement).value).toBe('');
    expect(screen.getByTestId('chart-empty').textContent).toContain('No check-ins in this window');
  });

  it('reports a failed add and keeps the form filled', async () => {
    fakeBackend({
      store_info: () => storeInfo,
      list_devices: () => [],
      add_device: () => {
        throw 'could not reach 10.9.9.9';
      },
    });
    render(App);
    await fireEvent.input(screen.getByTestId('add-host'), { target: { value: '10.9.9.9' } });
    await fireEvent.click(screen.getByTestId('add-submit'));
    const banner = await vi.waitFor(() => screen.getByTestId('error-banner'));
    expect(banner.textContent).toContain('could not reach 10.9.9.9');
    expect((screen.getByTestId('add-host') as HTMLInputElement).value).toBe('10.9.9.9');
  });

  it('never leaves a blank screen when the store cannot be read', async () => {
    fakeBackend({
      store_info: () => {
        throw { kind: 'store', message: 'The fleet database at /x/fleet.db could not be opened.' };
      },
      list_devices: () => {
        throw { kind: 'store', message: 'The fleet database at /x/fleet.db could not be opened.' };
      },
    });
    render(App);
    const banner = await vi.waitFor(() => screen.getByTestId('error-banner'));
    expect(banner.textContent).toContain('The fleet database at /x/fleet.db could not be opened.');
    expect(screen.getByTestId('add-device-form')).toBeTruthy();
    expect(screen.getByTestId('device-list')).toBeTruthy();
    expect(screen.getByTestId('store-status').textContent?.trim()).toBe('Store unavailable');
  });

  it('starts the demo fleet from the overview and lists its routers as simulated', async () => {
    let running = false;
    const calls = fakeBackend({
      store_info: () => storeInfo,
      list_devices: () =>
        running ? [device({ id: 's1', identity: 'sim-router-0000', tags: ['simulated'] })] : [],
      start_demo: (args) => {
        running = true;
        return { ...demoOff, running: true, routers: args?.routers as number };
      },
    });
    render(App);
    const toggle = await vi.waitFor(() => screen.getByTestId('demo-toggle'));
    await vi.waitFor(() => expect(screen.getByTestId('overview-empty')).toBeTruthy());
    await fireEvent.click(toggle);
    await vi.waitFor(() => expect(screen.getAllByTestId('device-row')).toHaveLength(1));
    expect(calls).toContainEqual(['start_demo', { routers: 25 }]);
    expect(screen.getByTestId('simulated-badge').textContent).toBe('simulated');
    expect(screen.getByTestId('demo-panel').textContent).toContain('25 simulated routers');
    expect(screen.getByTestId('demo-toggle').textContent).toContain('Stop demo fleet');
  });

  it('saves settings: the theme applies at once and the overview uses the interval', async () => {
    const calls = fakeBackend({
      store_info: () => storeInfo,
      list_devices: () => [],
      save_settings: (args) => args?.settings,
    });
    render(App);
    await vi.waitFor(() => expect(calls.some(([c]) => c === 'fleet_overview')).toBe(true));
    await fireEvent.click(screen.getByTestId('open-settings'));
    await fireEvent.click(screen.getByTestId('theme-dark'));
    await fireEvent.input(screen.getByTestId('poll-interval'), { target: { value: '2' } });
    expect((screen.getByTestId('settings-save') as HTMLButtonElement).disabled).toBe(true);
    expect(screen.getByTestId('settings').textContent).toContain('Between 5 seconds and one day');
    await fireEvent.input(screen.getByTestId('poll-interval'), { target: { value: '30' } });
    await fireEvent.click(screen.getByTestId('background-polling'));
    await fireEvent.click(screen.getByTestId('settings-save'));
    await vi.waitFor(() => expect(screen.queryByTestId('settings')).toBeNull());
    expect(calls).toContainEqual([
      'save_settings',
      {
        settings: {
          theme: 'dark',
          pollIntervalSecs: 30,
          backgroundPolling: false,
          pushConcurrency: 32,
          codepage: 'windows-1252',
          backupSchedule: { everyHours: 24, overrides: [] },
          sensitiveBackups: false,
        },
      },
    ]);
    expect(document.documentElement.dataset.theme).toBe('dark');
    await vi.waitFor(() =>
      expect(calls).toContainEqual(['fleet_overview', { theme: 'dark', intervalSecs: 30 }]),
    );
  });

  it('filters by site and tag, polls the ticked routers in bulk and sends them to a push', async () => {
    const list = [
      device({ id: 'a', identity: 'lis-1', siteId: 's1', tags: ['core'] }),
      device({ id: 'b', identity: 'lis-2', siteId: 's1', tags: ['edge'] }),
      device({ id: 'c', identity: 'opo-1', siteId: 's2', tags: ['core'] }),
    ];
    const calls = fakeBackend({
      store_info: () => storeInfo,
      list_devices: () => list,
      list_sites: () => [
        { id: 's1', name: 'Lisbon POP' },
        { id: 's2', name: 'Porto' },
      ],
      // The progress channel as Rust feeds it: each router as it answers.
      poll_devices: (args) => {
        const ids = args?.deviceIds as string[];
        const onProgress = args?.onProgress as { send: (p: unknown) => void };
        let failed = 0;
        ids.forEach((id, i) => {
          if (id === 'b') failed++;
          onProgress.send({
            deviceId: id,
            checkin: id === 'b' ? null : { deviceId: id, checkedInAt: NOW },
            error: id === 'b' ? 'login refused' : null,
            done: i + 1,
            total: ids.length,
            failed,
          });
        });
        return { total: ids.length, failed };
      },
    });
    setChannelFactory((onEvent) => ({ send: onEvent }));
    render(App);
    await vi.waitFor(() => expect(screen.getAllByTestId('device-row')).toHaveLength(3));
    await vi.waitFor(() => expect(screen.getByTestId('device-site').textContent).toContain('Lisbon POP'));
    await fireEvent.change(screen.getByTestId('device-site'), { target: { value: 's1' } });
    await vi.waitFor(() => expect(screen.getAllByTestId('device-row')).toHaveLength(2));
    await fireEvent.change(screen.getByTestId('device-tag'), { target: { value: 'core' } });
    await vi.waitFor(() => expect(screen.getAllByTestId('device-row')).toHaveLength(1));
    await fireEvent.change(screen.getByTestId('device-tag'), { target: { value: 'all' } });

    // Tick every router shown (the two at Lisbon), then poll them.
    await vi.waitFor(() => expect(screen.getAllByTestId('device-row')).toHaveLength(2));
    await fireEvent.click(screen.getByTestId('check-all'));
    expect(screen.getByTestId('bulk-count').textContent).toBe('2 selected');
    await fireEvent.click(screen.getByTestId('bulk-poll'));
    await vi.waitFor(() => expect(screen.getByTestId('bulk-result').textContent).toContain('Polled 2 routers, 1 failed'));
    const polled = calls.filter(([c]) => c === 'poll_devices').map(([, a]) => a?.deviceIds as string[]);
    expect(polled.map((ids) => [...ids].sort())).toEqual([['a', 'b']]);
    expect(calls.some(([c]) => c === 'poll_device')).toBe(false);

    await fireEvent.click(screen.getByTestId('bulk-push'));
    await vi.waitFor(() => expect(screen.getByTestId('pick-a')).toBeTruthy());
    expect((screen.getByTestId('pick-a') as HTMLInputElement).checked).toBe(true);
    expect((screen.getByTestId('pick-b') as HTMLInputElement).checked).toBe(true);
    expect((screen.getByTestId('pick-c') as HTMLInputElement).checked).toBe(false);
  });

  it('imports an inventory and reloads the list', async () => {
    let list: Device[] = [];
    const calls = fakeBackend({
      store_info: () => storeInfo,
      list_devices: () => list,
      import_inventory: () => {
        list = [device({ id: 'n1', host: '10.20.0.1' })];
        return { rows: 2, added: 1, alreadyKnown: 1, sitesAdded: 1, passwordStored: true };
      },
    });
    render(App);
    await fireEvent.click(screen.getByTestId('open-import'));
    const text = 'host,site\n10.20.0.1,Lisbon POP\n10.20.0.2,Lisbon POP';
    await fireEvent.input(screen.getByTestId('import-text'), { target: { value: text } });
    await fireEvent.input(screen.getByTestId('import-password'), { target: { value: 'pw' } });
    await fireEvent.click(screen.getByTestId('import-submit'));
    await vi.waitFor(() => expect(screen.getByTestId('import-result').textContent).toContain('1 router added'));
    expect(screen.getByTestId('import-result').textContent).toContain('1 already in the list, 1 new site');
    expect(calls).toContainEqual(['import_inventory', { request: { text, username: 'admin', password: 'pw' } }]);
    await vi.waitFor(() => expect(screen.getAllByTestId('device-row')).toHaveLength(1));
    expect((screen.getByTestId('import-password') as HTMLInputElement).value).toBe('');
  });
});
