import { fireEvent, render, screen } from '@testing-library/svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import Provision from './Provision.svelte';
import { setChannelFactory, setInvoke, type PushEvent, type RouterResult } from './api';
import { device, fakeInvoke, type Handler } from './test-fixtures';

function backend(handlers: Record<string, Handler>) {
  return fakeInvoke({ list_templates: () => [], ...handlers });
}

// The push's event channel: the fake backend calls `send` on it.
setChannelFactory((onEvent) => ({ send: onEvent }));

afterEach(() => setInvoke());

const routers = [
  device({ id: 'r1', identity: 'shop-1', tags: ['simulated'] }),
  device({ id: 'r2', identity: 'shop-2', host: '10.0.0.2' }),
];

const check = () => ({
  parameters: [
    { name: 'identity', type: 'name', automatic: false },
    { name: 'router.serial', type: 'string', automatic: true },
  ],
  errors: [],
  planRefusal: null,
});

describe('Provision', () => {
  it('chooses routers by site and tag, then selects all shown', async () => {
    backend({ check_template: () => check() });
    const list = [
      device({ id: 'a', identity: 'lis-1', siteId: 's1', tags: ['core'] }),
      device({ id: 'b', identity: 'lis-2', siteId: 's1', tags: ['edge'] }),
      device({ id: 'c', identity: 'opo-1', siteId: 's2', tags: ['core'] }),
    ];
    const sites = [
      { id: 's1', name: 'Lisbon POP' },
      { id: 's2', name: 'Porto' },
    ];
    render(Provision, { props: { devices: list, sites, onerror: vi.fn() } });
    await fireEvent.change(screen.getByTestId('push-tag'), { target: { value: 'core' } });
    await vi.waitFor(() => expect(screen.queryByTestId('pick-b')).toBeNull());
    expect(screen.getByTestId('pick-a')).toBeTruthy();
    expect(screen.getByTestId('pick-c')).toBeTruthy();
    await fireEvent.change(screen.getByTestId('push-site'), { target: { value: 's2' } });
    await vi.waitFor(() => expect(screen.queryByTestId('pick-a')).toBeNull());
    await fireEvent.click(screen.getByTestId('select-shown'));
    expect(screen.getByTestId('push-selected').textContent).toBe('1 selected');
    expect((screen.getByTestId('pick-c') as HTMLInputElement).checked).toBe(true);
  });

  it('checks the template as it is typed and shows errors with line and column', async () => {
    backend({
      check_template: (a) =>
        (a?.text as string).includes('{{ bad')
          ? { parameters: [], errors: [{ line: 2, column: 5, message: 'unclosed placeholder' }] }
          : check(),
    });
    render(Provision, { props: { devices: routers, initialSelection: ['r1'], onerror: vi.fn() } });
    await vi.waitFor(() => expect(screen.getByTestId('value-identity')).toBeTruthy());
    expect(screen.getByText(/Filled from each router: router.serial/)).toBeTruthy();
    await fireEvent.input(screen.getByTestId('template-text'), { target: { value: 'x\n/a {{ bad' } });
    await vi.waitFor(() =>
      expect(screen.getByTestId('template-errors').textContent).toContain('Line 2, column 5: unclosed placeholder'),
    );
    expect((screen.getByTestId('push') as HTMLButtonElement).disabled).toBe(true);
  });

  it('previews the diff, pushes with live steps, and confirms by hand', async () => {
    const result: RouterResult = {
      deviceId: 'r1',
      address: '10.0.0.1:8728',
      wave: 1,
      status: 'awaiting-confirmation',
      message: 'applied and verified; the safety net (fleetdeck-safety-abc) restores the backup in 10 min unless you confirm',
      report: {
        pushId: 'p1',
        status: 'awaiting-confirmation',
        steps: [],
        backup: 'fleetdeck-abc.backup',
        safetyNet: 'fleetdeck-safety-abc',
        message: '',
      },
    };
    const calls = backend({
      check_template: check,
      preview_push: () => ({
        errors: [],
        preview: {
          rendered: '/system identity set name=shop-9',
          plan: { steps: [] },
          steps: [
            { line: 1, outcome: { outcome: 'wouldChange', properties: ['name'] } },
            { line: 2, outcome: { outcome: 'unchanged' }, item: 'item 0 of /system/logging: *1 (topics=info)' },
          ],
          changes: 1,
          before: '',
          after: '',
          diff: '--- router export\n+++ after the push\n-/system identity set name=MikroTik\n+/system identity set name=shop-9\n',
          notes: [],
        },
      }),
      push_template: (a) => {
        const ch = a?.onEvent as { send: (e: PushEvent) => void };
        ch.send({ event: 'started', job: 'job-1', routers: 1 });
        ch.send({ event: 'step', deviceId: 'r1', step: { line: 1, outcome: { outcome: 'changed', items: 1, properties: ['name'] } }, done: 1 });
        ch.send({ event: 'router', result });
        return { batchId: 'b1', routers: 1, succeeded: 1, failed: 0, skipped: 0, alreadyDone: 0, seconds: 1.2, stopped: null, results: [result] };
      },
      confirm_push: () => ({ outcome: 'confirmed' }),
    });
    render(Provision, { props: { devices: routers, initialSelection: ['r1'], onerror: vi.fn() } });
    const input = await vi.waitFor(() => screen.getByTestId('value-identity'));
    await fireEvent.input(input, { target: { value: 'shop-9' } });
    await fireEvent.click(screen.getByTestId('preview'));
    await vi.waitFor(() => expect(screen.getByTestId('preview-summary').textContent).toContain('1 of 2 steps would change shop-1'));
    // A step that named its item by position says which item that is here.
    const stepsText = screen.getByTestId('preview-steps').textContent ?? '';
    expect(stepsText, stepsText).toContain('(item 0 of /system/logging: *1 (topics=info))');
    const diff = screen.getByTestId('preview-diff');
    expect(diff.querySelector('.add')!.textContent).toContain('+/system identity set name=shop-9');
    expect(diff.querySelector('.del')!.textContent).toContain('-/system identity set name=MikroTik');
    expect(calls).toContainEqual(['preview_push', { deviceId: 'r1', template: expect.any(String), values: { identity: 'shop-9' }, import: false }]);

    await fireEvent.click(screen.getByTestId('push'));
    await vi.waitFor(() => expect(screen.getByTestId('push-summary').textContent).toContain('1 of 1 routers went through'));
    const row = screen.getByTestId('push-row');
    expect(row.dataset.status).toBe('awaiting-confirmation');
    expect(row.textContent).toContain('restores the backup in 10 min unless you confirm');
    const req = calls.find(([c]) => c === 'push_template')![1]!.request as Record<string, unknown>;
    expect(req).toMatchObject({ deviceIds: ['r1'], values: { identity: 'shop-9' }, manualConfirm: true, confirmWithinMinutes: 10 });
    await fireEvent.click(screen.getByTestId('confirm'));
    await vi.waitFor(() => expect(screen.getByTestId('confirmed')).toBeTruthy());
    expect(calls).toContainEqual(['confirm_push', { deviceId: 'r1', scheduler: 'fleetdeck-safety-abc' }]);
  });
  it('says so when the safety net fired before the confirm', async () => {
    const result: RouterResult = {
      deviceId: 'r1',
      address: '10.0.0.1:8728',
      wave: 1,
      status: 'awaiting-confirmation',
      message: 'applied and verified; the safety net (fleetdeck-safety-abc) restores the backup in 1 min unless you confirm',
      report: {
        pushId: 'p1',
        status: 'awaiting-confirmation',
        steps: [],
        backup: 'fleetdeck-abc.backup',
        safetyNet: 'fleetdeck-safety-abc',
        message: '',
      },
    };
    const fired = 'not confirmed in time: the safety net (fleetdeck-safety-abc) fired and the router restored its backup';
    backend({
      check_template: check,
      push_template: (a) => {
        const ch = a?.onEvent as { send: (e: PushEvent) => void };
        ch.send({ event: 'router', result });
        return { batchId: 'b1', routers: 1, succeeded: 1, failed: 0, skipped: 0, alreadyDone: 0, seconds: 1, stopped: null, results: [result] };
      },
      confirm_push: () => ({ outcome: 'restored-by-router', message: fired }),
    });
    render(Provision, { props: { devices: routers, initialSelection: ['r1'], onerror: vi.fn() } });
    const input = await vi.waitFor(() => screen.getByTestId('value-identity'));
    await fireEvent.input(input, { target: { value: 'shop-9' } });
    await vi.waitFor(() => expect((screen.getByTestId('push') as HTMLButtonElement).disabled).toBe(false));
    await fireEvent.click(screen.getByTestId('push'));
    await vi.waitFor(() => expect(screen.getByTestId('confirm')).toBeTruthy());
    await fireEvent.click(screen.getByTestId('confirm'));
    const said = await vi.waitFor(() => screen.getByTestId('confirm-outcome'));
    expect(said.dataset.outcome).toBe('restored-by-router');
    expect(said.textContent).toContain('restored its backup');
    expect(screen.queryByTestId('confirmed')).toBeNull();
  });
});
