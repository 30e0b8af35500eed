// Client-side checks for the "Add device" form. The Rust side validates again;
// this only catches typos before a network round-trip.
import type { NewDevice, Transport } from './api';

/** API-SSL unless the technician chooses otherwise: a password in clear is a choice, not a default. */
export const DEFAULT_TRANSPORT: Transport = 'api-ssl';
/** The API port each transport listens on by default. */
export const PORT_OF: Record<Transport, number> = { api: 8728, 'api-ssl': 8729, 'api-ssl-anonymous': 8729 };
export const DEFAULT_PORT = PORT_OF[DEFAULT_TRANSPORT];
export const DEFAULT_USERNAME = 'admin';

export interface DeviceFormFields {
  host: string;
  /** Raw value of the port input: a number, or ''/null/NaN when empty or garbage. */
  port: number | string | null | undefined;
  username: string;
  password: string;
  transport: Transport;
}

export interface DeviceFormErrors {
  host?: string;
  port?: string;
  username?: string;
}

export type DeviceFormResult =
  | { ok: true; value: NewDevice }
  | { ok: false; errors: DeviceFormErrors };

export const MESSAGES = {
  hostEmpty: "Enter the router's address, for example 192.168.88.1.",
  hostSpaces: 'The address cannot contain spaces.',
  port: 'Port must be a whole number from 1 to 65535 (the RouterOS API uses 8729 with TLS, 8728 without).',
  username: 'Enter the API username, for example admin.',
} as const;

/** Parse the port input; returns null unless it is an integer in 1..=65535. */
export function parsePort(raw: number | string | null | undefined): number | null {
  if (raw === null || raw === undefined) return null;
  let n: number;
  if (typeof raw === 'number') {
    n = raw;
  } else {
    const text = raw.trim();
    if (!/^\d+$/.test(text)) return null;
    n = Number(text);
  }
  if (!Number.isInteger(n) || n < 1 || n > 65535) return null;
  return n;
}

export function validateDeviceForm(fields: DeviceFormFields): DeviceFormResult {
  const errors: DeviceFormErrors = {};
  const host = fields.host.trim();
  if (host === '') {
    errors.host = MESSAGES.hostEmpty;
  } else if (/\s/.test(host)) {
    errors.host = MESSAGES.hostSpaces;
  }
  const port = parsePort(fields.port);
  if (port === null) {
    errors.port = MESSAGES.port;
  }
  const username = fields.username.trim();
  if (username === '') {
    errors.username = MESSAGES.username;
  }
  if (errors.host || errors.port || errors.username || port === null) {
    return { ok: false, errors };
  }
  // The password is passed through untouched: it may legitimately be empty
  // (factory RouterOS) or begin/end with spaces.
  return { ok: true, value: { host, port, username, password: fields.password, transport: fields.transport } };
}
