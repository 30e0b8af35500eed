import { fireEvent, render, screen, within } from '@testing-library/svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { setInvoke, setChannelFactory, type Checkin, type DeviceCharts, type MonitorEvent } from './api';
import DeviceDetail from './DeviceDetail.svelte';
import DeviceList from './DeviceList.svelte';
import ErrorBanner from './ErrorBanner.svelte';
import { device, fakeInvoke, type Handler } from './test-fixtures';

const NOW = 1_700_000_000_000;


const checkin: Checkin = {
  deviceId: 'd1',
  checkedInAt: NOW - 120_000,
  cpuLoad: 12,
  cpuCount: 4,
  freeMemory: 768 * 1024 * 1024,
  totalMemory: 1024 * 1024 * 1024,
  freeHdd: 100 * 1024 * 1024,
  totalHdd: 128 * 1024 * 1024,
  uptimeSecs: 3 * 86_400 + 4 * 3_600 + 12 * 60,
  version: '7.16.2 (stable)',
  boardName: 'RB5009UG+S+',
  identity: 'edge-1',
  rxBytes: 5 * 1024 ** 3,
  txBytes: 512,
  serial: null,
  rxBps: 0,
  txBps: 0,
};

describe('DeviceList', () => {
  it('draws only the rows in view of a long list, and follows the scroll', async () => {
    const many = Array.from({ length: 10_000 }, (_, i) => device({ id: `d${i}`, identity: `rtr-${i}` }));
    render(DeviceList, { devices: many, selectedId: null, now: NOW, onselect: () => {} });
    const rows = screen.getAllByTestId('device-row');
    expect(rows.length).toBeLessThan(60);
    expect(rows[0].textContent).toContain('rtr-0');
    const list = screen.getByTestId('device-list');
    expect(list.querySelector('ul')!.style.height).toBe('800000px');
    list.scrollTop = 80 * 5_000;
    await fireEvent.scroll(list);
    const titles = screen.getAllByTestId('device-row').map((r) => r.querySelector('.title')!.textContent);
    expect(titles).toContain('rtr-5000');
    expect(titles).not.toContain('rtr-0');
    expect(titles.length).toBeLessThan(60);
  });

  it('shows the empty-state text', () => {
    render(DeviceList, { devices: [], selectedId: null, now: NOW, onselect: () => {} });
    expect(screen.getByTestId('device-list').textContent).toContain(
      'No routers yet. Add one with its address and API login.',
    );
    expect(screen.queryAllByTestId('device-row')).toHaveLength(0);
  });

  it('renders one row per device with title, address, version, CPU, the state Rust judged and age', async () => {
    const onselect = vi.fn();
    render(DeviceList, {
      devices: [
        device({ id: 'a', identity: 'edge-1', version: '7.16', cpuLoad: 37, lastCheckinAt: NOW - 120_000, state: 'online' }),
        device({ id: 'b', host: '10.0.0.2', port: 8729 }),
        device({ id: 'c', host: '10.0.0.3', lastCheckinAt: NOW - 1000, lastError: 'Login rejected.', state: 'online' }),
        device({ id: 'd', host: '10.0.0.4', lastCheckinAt: NOW - 30 * 60_000, state: 'offline' }),
        device({ id: 'e', host: '10.0.0.5', lastCheckinAt: NOW - 10 * 60_000, state: 'degraded' }),
      ],
      selectedId: 'b',
      now: NOW,
      onselect,
    });
    const rows = screen.getAllByTestId('device-row');
    expect(rows.map((r) => r.dataset.deviceId)).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(rows.map((r) => r.dataset.status)).toEqual(['online', 'never-seen', 'online', 'offline', 'degraded']);
    expect(rows[0].textContent).toContain('online');
    expect(rows[3].textContent).toContain('offline');
    expect(rows[4].textContent).toContain('degraded');

    const a = within(rows[0]);
    expect(a.getByText('edge-1')).toBeTruthy();
    expect(a.getByText('10.0.0.1:8728')).toBeTruthy();
    expect(a.getByText('v7.16')).toBeTruthy();
    expect(a.getByText('37%')).toBeTruthy();
    expect(a.getByText('2 min ago')).toBeTruthy();

    // No identity: the address is the title.
    expect(rows[1].textContent).toContain('10.0.0.2:8729');
    expect(rows[1].textContent).toContain('never seen');
    expect(rows[1].getAttribute('aria-pressed')).toBe('true');
    // A failed last poll is said next to the state, not instead of it.
    expect(within(rows[2]).getByTestId('poll-failed').textContent).toBe('last poll failed');
    expect(within(rows[0]).queryByTestId('poll-failed')).toBeNull();

    await fireEvent.click(rows[2]);
    expect(onselect).toHaveBeenCalledWith('c');
  });
});

describe('DeviceDetail', () => {
  const charts = (points: number, cpuSvg = '<svg/>'): DeviceCharts => ({
    from: NOW - 86_400_000,
    to: NOW,
    resolution: 'raw',
    bucketMs: 360_000,
    points,
    cpuSvg,
    memorySvg: '<svg><text>mem</text></svg>',
    trafficSvg: '<svg><text>traffic</text></svg>',
  });
  /** The Rust side as the detail view sees it; records every call. */
  function backend(overrides: Record<string, Handler> = {}) {
    return fakeInvoke({
      device_charts: () => charts(0),
      stop_monitor: () => null,
      credential_status: () => ({ state: 'stored' }),
      ...overrides,
    });
  }
  afterEach(() => setInvoke());
  const base = { checkin: null, alerts: [], now: NOW, intervalSecs: 60, onpoll: () => {}, onerror: () => {} };

  it('shows the placeholder when the window has no check-ins', async () => {
    backend();
    render(DeviceDetail, { ...base, device: device() });
    await vi.waitFor(() => expect(screen.getByTestId('chart-empty')).toBeTruthy());
    expect(screen.queryByTestId('cpu-chart')).toBeNull();
    expect(screen.getByTestId('detail-title').textContent).toBe('10.0.0.1:8728');
  });

  it('shows CPU, memory and traffic as data: images and reloads for another window', async () => {
    const svg = '<svg xmlns="http://www.w3.org/2000/svg"><text>Last 24 h</text></svg>';
    const calls = backend({ device_charts: () => charts(5, svg) });
    render(DeviceDetail, { ...base, device: device({ id: 'd1', identity: 'edge-1', lastCheckinAt: NOW - 120_000 }) });
    const img = (await screen.findByTestId('cpu-chart')) as HTMLImageElement;
    expect(img.getAttribute('src')).toBe(`data:image/svg+xml;base64,${btoa(svg)}`);
    expect(img.alt).toBe('CPU load over time for edge-1');
    expect(screen.getByTestId('memory-chart')).toBeTruthy();
    expect(screen.getByTestId('traffic-chart')).toBeTruthy();
    expect(screen.getByTestId('chart-meta').textContent).toContain('5 points');
    // The SVG is never injected as markup.
    expect(screen.getByTestId('device-charts').querySelector('svg')).toBeNull();
    expect(calls).toContainEqual(['device_charts', { deviceId: 'd1', windowSecs: 86_400, theme: 'light' }]);

    const week = screen.getAllByTestId('chart-window').find((b) => b.dataset.secs === String(7 * 86_400))!;
    await fireEvent.click(week);
    await vi.waitFor(() =>
      expect(calls).toContainEqual(['device_charts', { deviceId: 'd1', windowSecs: 7 * 86_400, theme: 'light' }]),
    );
    expect(week.getAttribute('aria-checked')).toBe('true');
  });

  it('formats the facts of the latest check-in', () => {
    backend();
    render(DeviceDetail, {
      ...base,
      device: device({ identity: 'edge-1', board: 'RB5009UG+S+', version: '7.16.2 (stable)', lastCheckinAt: NOW - 120_000 }),
      checkin,
    });
    expect(screen.getByTestId('fact-board').textContent).toBe('RB5009UG+S+');
    expect(screen.getByTestId('fact-version').textContent).toBe('7.16.2 (stable)');
    expect(screen.getByTestId('fact-last-checkin').textContent?.trim()).toBe('2 min ago');
    expect(screen.getByTestId('fact-uptime').textContent).toBe('3d 4h 12m');
    expect(screen.getByTestId('fact-memory').textContent).toBe('256 MiB / 1.0 GiB');
    expect(screen.getByTestId('fact-cpu-count').textContent).toBe('4');
    expect(screen.getByTestId('fact-cpu').textContent).toBe('12%');
  });

  it('disables Poll now while polling and calls onpoll otherwise', async () => {
    backend();
    const onpoll = vi.fn();
    const { rerender } = render(DeviceDetail, { ...base, device: device(), onpoll, polling: true });
    const button = screen.getByTestId('poll-now') as HTMLButtonElement;
    expect(button.disabled).toBe(true);
    expect(button.textContent).toContain('Polling…');

    await rerender({ ...base, device: device(), onpoll, polling: false });
    expect(button.disabled).toBe(false);
    expect(button.textContent?.trim()).toBe('Poll now');
    await fireEvent.click(button);
    expect(onpoll).toHaveBeenCalledTimes(1);
  });

  it('asks to confirm a router moved by a sync, and sends nothing there until confirmed', async () => {
    let moved = true;
    const calls = backend({
      credential_status: () =>
        moved
          ? { state: 'addressChanged', enteredFor: '10.0.0.1:8728 as admin', now: '203.0.113.9:8728 as admin' }
          : { state: 'stored' },
      confirm_router_address: () => {
        moved = false;
        return null;
      },
    });
    render(DeviceDetail, { ...base, device: device({ id: 'd1' }) });
    const banner = await screen.findByTestId('address-changed');
    expect(banner.textContent).toContain('Address changed by sync — confirm');
    expect(banner.textContent).toContain('10.0.0.1:8728 as admin');
    expect(banner.textContent).toContain('203.0.113.9:8728 as admin');
    expect(calls.some(([cmd]) => cmd === 'confirm_router_address')).toBe(false);
    await fireEvent.click(screen.getByTestId('confirm-address'));
    await vi.waitFor(() => expect(screen.queryByTestId('address-changed')).toBeNull());
    expect(calls).toContainEqual(['confirm_router_address', { deviceId: 'd1' }]);
  });

  it('shows the last poll error of the device', () => {
    backend();
    render(DeviceDetail, { ...base, device: device({ lastError: 'The router refused the login for admin.' }) });
    expect(screen.getByTestId('device-last-error').textContent).toContain('The router refused the login for admin.');
  });

  it('names alerts in words and says when data is a cached copy', () => {
    backend();
    render(DeviceDetail, {
      ...base,
      device: device(),
      syncedAt: NOW - 3_600_000,
      alerts: [
        { id: 'a1', at: NOW - 60_000, deviceId: 'd1', actor: 'fleetdeck', action: 'health.offline', detail: '10.0.0.1:8728 is Offline (3 polls missed): timed out' },
        { id: 'a2', at: NOW - 120_000, deviceId: 'd1', actor: 'fleetdeck', action: 'alert.cpu-high', detail: 'CPU load 97 %' },
      ],
    });
    const items = screen.getAllByTestId('alert');
    expect(items.map((i) => i.querySelector('strong')?.textContent)).toEqual(['Offline', 'CPU high']);
    expect(items[0].className).toContain('bad');
    expect(items[0].textContent).toContain('3 polls missed');
    expect(screen.getByTestId('detail-cached').textContent).toContain('1 h ago');
  });

  it('watches an interface live until stopped, and stops when closed', async () => {
    let send: (e: MonitorEvent) => void = () => {};
    setChannelFactory(<T,>(onEvent: (e: T) => void) => {
      send = onEvent as unknown as (e: MonitorEvent) => void;
      return 'channel';
    });
    const calls = backend({
      list_interfaces: () => [
        { name: 'ether1', kind: 'ether', running: false, disabled: false },
        { name: 'ether2', kind: 'ether', running: true, disabled: false },
      ],
      start_monitor: () => 7,
    });
    const { unmount, rerender } = render(DeviceDetail, { ...base, device: device({ id: 'd1' }) });
    await fireEvent.click(screen.getByTestId('live-start'));
    await vi.waitFor(() => expect(screen.getByTestId('live-stop').textContent).toBe('Stop'));
    expect(calls).toContainEqual(['start_monitor', { deviceId: 'd1', interface: 'ether2', onEvent: 'channel' }]);
    send({ event: 'sample', at: NOW, rxBps: 12_500_000, txBps: 950, rxPps: 1, txPps: 1 });
    await vi.waitFor(() => expect(screen.getByTestId('live-now').textContent).toContain('12.5 Mbit/s'));
    expect(screen.getByTestId('live-now').textContent).toContain('950 bit/s');

    send({ event: 'stopped', error: 'The router closed the connection.' });
    await vi.waitFor(() => expect(screen.getByTestId('live-error').textContent).toBe('The router closed the connection.'));
    expect(screen.getByTestId('live-start')).toBeTruthy();

    await fireEvent.click(screen.getByTestId('live-start'));
    await vi.waitFor(() => expect(screen.getByTestId('live-stop').textContent).toBe('Stop'));
    expect(calls.filter(([c]) => c === 'device_charts')).toHaveLength(1);
    // The list reloads with a fresh object for the same router: the monitor keeps running.
    await rerender({ ...base, device: device({ id: 'd1', cpuLoad: 9 }) });
    expect(calls.filter(([c]) => c === 'stop_monitor')).toHaveLength(0);
    expect(calls.filter(([c]) => c === 'device_charts')).toHaveLength(1);
    unmount();
    await vi.waitFor(() => expect(calls).toContainEqual(['stop_monitor', { id: 7 }]));
  });
});

describe('ErrorBanner', () => {
  it('renders nothing without an error', () => {
    render(ErrorBanner, { error: null, ondismiss: () => {} });
    expect(screen.queryByTestId('error-banner')).toBeNull();
  });

  it('shows the message verbatim as an alert and can be dismissed', async () => {
    const ondismiss = vi.fn();
    const message = 'The router at 10.0.0.1:8728 did not answer within 10 s. Check cabling & firewall <api>.';
    render(ErrorBanner, { error: { kind: 'timeout', message }, ondismiss });
    const banner = screen.getByTestId('error-banner');
    expect(banner.getAttribute('role')).toBe('alert');
    expect(banner.querySelector('.message')?.textContent).toBe(message);
    await fireEvent.click(screen.getByTestId('error-dismiss'));
    expect(ondismiss).toHaveBeenCalledTimes(1);
  });
});
