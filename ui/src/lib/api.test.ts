import { afterEach, describe, expect, it, vi } from 'vitest';
import * as api from './api';
import { normalizeError, setInvoke } from './api';

const FALLBACK = 'Something went wrong inside Fleetdeck. Please try again.';

describe('normalizeError', () => {
  it('passes a well-formed backend error through unchanged', () => {
    for (const kind of api.ERROR_KINDS) {
      expect(normalizeError({ kind, message: `msg for ${kind}` })).toEqual({
        kind,
        message: `msg for ${kind}`,
      });
    }
  });

  it('drops extra fields from a backend error', () => {
    expect(normalizeError({ kind: 'auth', message: 'Login rejected.', detail: 42 })).toEqual({
      kind: 'auth',
      message: 'Login rejected.',
    });
  });

  it('maps a plain string to internal with the string as message', () => {
    expect(normalizeError('the store is locked')).toEqual({
      kind: 'internal',
      message: 'the store is locked',
    });
  });

  it('maps an Error to internal with its message', () => {
    expect(normalizeError(new TypeError('x is undefined'))).toEqual({
      kind: 'internal',
      message: 'x is undefined',
    });
  });

  it('treats an unknown kind as internal but keeps the message', () => {
    expect(normalizeError({ kind: 'weird', message: 'Odd failure.' })).toEqual({
      kind: 'internal',
      message: 'Odd failure.',
    });
  });

  it('keeps a known kind even without a usable message', () => {
    expect(normalizeError({ kind: 'timeout' })).toEqual({ kind: 'timeout', message: FALLBACK });
    expect(normalizeError({ kind: 'timeout', message: '  ' })).toEqual({ kind: 'timeout', message: FALLBACK });
  });

  it('never returns an empty message for junk', () => {
    for (const junk of [null, undefined, 0, 42, true, '', '   ', {}, [], { message: 7 }]) {
      expect(normalizeError(junk)).toEqual({ kind: 'internal', message: FALLBACK });
    }
  });
});

describe('command wrappers', () => {
  afterEach(() => setInvoke());

  it('use the exact command names and argument keys of the IPC contract', async () => {
    const invoke = vi.fn(async () => 'ok');
    setInvoke(invoke as unknown as api.Invoke);

    await api.storeInfo();
    await api.listDevices(60);
    await api.addDevice({ host: '10.0.0.1', port: 8728, username: 'admin', password: 'pw', transport: 'api' });
    await api.pollDevice('dev-1');
    await api.deviceCharts('dev-2', 3600, 'dark');

    expect(invoke.mock.calls).toEqual([
      ['store_info', undefined],
      ['list_devices', { intervalSecs: 60 }],
      ['add_device', { input: { host: '10.0.0.1', port: 8728, username: 'admin', password: 'pw', transport: 'api' } }],
      ['poll_device', { deviceId: 'dev-1' }],
      ['device_charts', { deviceId: 'dev-2', windowSecs: 3600, theme: 'dark' }],
    ]);
  });

  it('name the compliance commands and their argument keys as the Rust side does', async () => {
    const invoke = vi.fn(async () => 'ok');
    setInvoke(invoke as unknown as api.Invoke);
    const rule: api.RuleInput = {
      id: null,
      name: 'telnet off',
      scope: { kind: 'all' },
      check: { kind: 'mustContain', text: '/ip service set telnet disabled=yes' },
      enabled: true,
    };

    await api.complianceRules();
    await api.saveComplianceRule(rule);
    await api.configCheck();

    expect(invoke.mock.calls).toEqual([
      ['compliance_rules', undefined],
      ['save_compliance_rule', { rule }],
      ['config_check', undefined],
    ]);
  });

  it('reject with a normalised error whatever the transport throws', async () => {
    setInvoke(async () => {
      throw { kind: 'unreachable', message: 'The router at 10.0.0.1:8728 did not answer.' };
    });
    await expect(api.pollDevice('d')).rejects.toEqual({
      kind: 'unreachable',
      message: 'The router at 10.0.0.1:8728 did not answer.',
    });

    setInvoke(async () => {
      throw 'plain string failure';
    });
    await expect(api.listDevices(60)).rejects.toEqual({ kind: 'internal', message: 'plain string failure' });

    setInvoke(() => {
      throw new Error('synchronous throw');
    });
    await expect(api.storeInfo()).rejects.toEqual({ kind: 'internal', message: 'synchronous throw' });
  });

  it('explains itself when opened outside the Tauri shell', async () => {
    setInvoke();
    const err = await api.listDevices(60).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'internal' });
    expect((err as api.ApiError).message).toMatch(/not connected to the Fleetdeck backend/);
  });
});
