import { fireEvent, render, screen } from '@testing-library/svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import DataSync from './DataSync.svelte';
import { setInvoke, type SyncStatus } from './api';
import { fakeInvoke } from './test-fixtures';

afterEach(() => setInvoke());

describe('DataSync', () => {
  it('saves the shared address with its password, then syncs and says when', async () => {
    let status: SyncStatus = {
      backend: 'sqlite',
      location: '/home/tech/.local/share/fleetdeck/fleet.db',
      outboxEntries: 3,
      outboxRecords: 120,
      sharedUrl: null,
      lastSync: null,
    };
    const calls = fakeInvoke({
      polling_status: () => ({
        enabled: true,
        intervalSecs: 60,
        routers: 12,
        withoutPassword: 3,
        addressChanged: 2,
        online: 10,
        degraded: 1,
        offline: 1,
        pollsOk: 40,
        pollsFailed: 2,
        rowsPending: 0, rowsSpooled: 0, rowsQuarantined: 0,
      }),
      sync_status: () => status,
      set_shared_store: (a) => {
        status = { ...status, sharedUrl: a?.url as string };
        return { backend: 'mysql', devices: 42 };
      },
      sync_now: () => {
        status = { ...status, outboxEntries: 0, outboxRecords: 0, lastSync: { at: Date.UTC(2026, 10, 29, 18), report: {} as never } };
        return { entriesDelivered: 3, recordsDelivered: 120, alreadyThere: 0, sites: 1, templates: 0, devices: 42, latest: 42, rollups: 10, configVersions: 0, checkins: 500, auditEvents: 7, pushes: 2 };
      },
    });
    render(DataSync, { props: { onerror: vi.fn() } });
    await vi.waitFor(() => expect(screen.getByTestId('outbox').textContent).toContain('120 records in 3 batches'));
    expect(screen.getByTestId('polling').textContent?.replace(/\s+/g, ' ')).toContain(
      '12 routers every 60 s: 10 online, 1 missing polls, 1 offline; 3 without a stored password are not polled; 2 moved to a new address by a sync or an edit are not polled until you confirm it',
    );
    expect(screen.getByTestId('last-sync').textContent).toContain('Never synced');
    expect((screen.getByTestId('sync-now') as HTMLButtonElement).disabled).toBe(true);

    await fireEvent.input(screen.getByTestId('shared-url'), { target: { value: 'mysql://fleet@db:3306/fleet' } });
    await fireEvent.input(screen.getByTestId('shared-password'), { target: { value: 'pw' } });
    await fireEvent.click(screen.getByTestId('shared-test'));
    await vi.waitFor(() => expect(screen.getByTestId('shared-tested').textContent).toContain('42 routers there'));
    expect(calls).toContainEqual(['set_shared_store', { url: 'mysql://fleet@db:3306/fleet', password: 'pw' }]);
    expect((screen.getByTestId('shared-password') as HTMLInputElement).value).toBe('');

    await fireEvent.click(screen.getByTestId('sync-now'));
    await vi.waitFor(() => expect(screen.getByTestId('synced').textContent).toContain('Sent 120 records up'));
    await vi.waitFor(() => expect(screen.getByTestId('last-sync').textContent).toContain('Last sync:'));
    expect(screen.getByTestId('outbox').textContent).toContain('0 records');
  });

  it('says when check-ins wait on disk for the database, and when it refused some', async () => {
    fakeInvoke({
      polling_status: () => ({
        enabled: true, intervalSecs: 60, routers: 5, withoutPassword: 0, addressChanged: 0,
        online: 5, degraded: 0, offline: 0, pollsOk: 40, pollsFailed: 0,
        rowsPending: 0, rowsSpooled: 25, rowsQuarantined: 1,
      }),
      sync_status: () => ({ backend: 'mysql', location: 'mysql://fleet@db/fleet', outboxEntries: 0, outboxRecords: 0, sharedUrl: null, lastSync: null }),
    });
    render(DataSync, { props: { onerror: vi.fn() } });
    await vi.waitFor(() => expect(screen.getByTestId('polling-kept').textContent).toContain('25 check-ins are kept'));
    expect(screen.getByTestId('polling-kept').textContent?.replace(/\s+/g, ' ')).toContain('refused 1 check-ins');
  });
});
