// Shared test data and the fake Rust side for the UI's unit tests.
import { setInvoke, type Device } from './api';

export type Handler = (args: Record<string, unknown> | undefined) => unknown;
export type Calls = Array<[string, Record<string, unknown> | undefined]>;

/**
 * A scripted stand-in for the Rust side: each command answers from
 * `handlers` (an unknown command fails the way the app would report it),
 * and every call is recorded in the returned list. Undo with `setInvoke()`.
 */
export function fakeInvoke(handlers: Record<string, Handler>): Calls {
  const calls: Calls = [];
  setInvoke((async (cmd: string, args?: Record<string, unknown>) => {
    calls.push([cmd, args]);
    const h = handlers[cmd];
    if (!h) throw { kind: 'internal', message: `unexpected command ${cmd}` };
    return h(args);
  }) as never);
  return calls;
}

/** A device as `list_devices` returns it, never polled unless overridden. */
export function device(overrides: Partial<Device> = {}): Device {
  return {
    id: 'd1',
    state: 'never-seen',
    host: '10.0.0.1',
    port: 8728,
    username: 'admin',
    identity: null,
    board: null,
    version: null,
    lastCheckinAt: null,
    cpuLoad: null,
    lastError: null,
    lastPolledAt: null,
    serial: null,
    transport: 'api',
    createdAt: 0,
    tags: [],
    siteId: null,
    ...overrides,
  };
}
