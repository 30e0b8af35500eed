import { describe, expect, it } from 'vitest';
import { MESSAGES, parsePort, validateDeviceForm, type DeviceFormFields } from './validation';

const good: DeviceFormFields = {
  host: '192.168.88.1',
  port: 8728,
  username: 'admin',
  password: 'secret',
  transport: 'api',
};

describe('parsePort', () => {
  it('accepts the range ends and typical ports', () => {
    expect(parsePort(1)).toBe(1);
    expect(parsePort(65535)).toBe(65535);
    expect(parsePort(8728)).toBe(8728);
    expect(parsePort('8729')).toBe(8729);
    expect(parsePort(' 8728 ')).toBe(8728);
  });

  it('rejects values just outside the range', () => {
    expect(parsePort(0)).toBeNull();
    expect(parsePort(65536)).toBeNull();
    expect(parsePort('0')).toBeNull();
    expect(parsePort('65536')).toBeNull();
  });

  it('rejects empty, fractional, negative and non-numeric input', () => {
    for (const raw of ['', '   ', null, undefined, Number.NaN, 80.5, '80.5', -1, '-1', '1e3', 'abc', '0x50']) {
      expect(parsePort(raw)).toBeNull();
    }
  });
});

describe('validateDeviceForm', () => {
  it('returns a trimmed payload for valid input', () => {
    expect(validateDeviceForm({ ...good, host: '  router.lan ', username: ' admin ' })).toEqual({
      ok: true,
      value: { host: 'router.lan', port: 8728, username: 'admin', password: 'secret', transport: 'api' },
    });
  });

  it('passes the password through untouched, even empty or padded', () => {
    const empty = validateDeviceForm({ ...good, password: '' });
    expect(empty.ok && empty.value.password).toBe('');
    const padded = validateDeviceForm({ ...good, password: ' pw ' });
    expect(padded.ok && padded.value.password).toBe(' pw ');
  });

  it('accepts a string port from the input', () => {
    const r = validateDeviceForm({ ...good, port: '8729' });
    expect(r.ok && r.value.port).toBe(8729);
  });

  it('requires a host', () => {
    expect(validateDeviceForm({ ...good, host: '   ' })).toEqual({
      ok: false,
      errors: { host: MESSAGES.hostEmpty },
    });
  });

  it('rejects a host containing spaces', () => {
    expect(validateDeviceForm({ ...good, host: '192.168.88.1 8728' })).toEqual({
      ok: false,
      errors: { host: MESSAGES.hostSpaces },
    });
  });

  it('rejects an out-of-range port', () => {
    expect(validateDeviceForm({ ...good, port: 70000 })).toEqual({ ok: false, errors: { port: MESSAGES.port } });
    expect(validateDeviceForm({ ...good, port: null })).toEqual({ ok: false, errors: { port: MESSAGES.port } });
  });

  it('requires a username', () => {
    expect(validateDeviceForm({ ...good, username: '' })).toEqual({
      ok: false,
      errors: { username: MESSAGES.username },
    });
  });

  it('reports every problem at once', () => {
    const r = validateDeviceForm({ host: '', port: 0, username: '', password: '', transport: 'api-ssl' });
    expect(r).toEqual({
      ok: false,
      errors: { host: MESSAGES.hostEmpty, port: MESSAGES.port, username: MESSAGES.username },
    });
  });
});
