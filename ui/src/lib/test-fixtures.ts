// Shared test data for the UI's unit tests.
import type { Device } from './api';

/** A device as `list_devices` returns it, never polled unless overridden. */
export function device(overrides: Partial<Device> = {}): Device {
  return {
    id: 'd1',
    host: '10.0.0.1',
    port: 8728,
    username: 'admin',
    identity: null,
    board: null,
    version: null,
    lastCheckinAt: null,
    cpuLoad: null,
    lastError: null,
    tags: [],
    siteId: null,
    ...overrides,
  };
}
