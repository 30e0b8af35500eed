// Pure display helpers. No DOM, no Svelte: everything here is unit-tested.
import type { Device, Outcome, RouterState, StoreInfo } from './api';

export const DASH = '—';

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/**
 * Binary-prefixed size: "0 B", "512 B", "1.0 KiB", "12.5 MiB", "118 MiB", "2.0 GiB".
 * One decimal below 100 of a unit, none from 100 up; a value that would
 * round to 1024 of a unit is shown as 1.0 of the next one.
 */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes) || bytes < 0) {
    return DASH;
  }
  if (bytes < 1024) {
    return `${Math.round(bytes)} B`;
  }
  let value = bytes;
  let unit = 0;
  while (unit < BYTE_UNITS.length - 1 && value >= 1024) {
    value /= 1024;
    unit += 1;
  }
  let text = value >= 100 ? Math.round(value).toString() : value.toFixed(1);
  if (Number(text) >= 1024 && unit < BYTE_UNITS.length - 1) {
    unit += 1;
    text = (Number(text) / 1024).toFixed(1);
  }
  return `${text} ${BYTE_UNITS[unit]}`;
}

/** "used / total" from free and total byte counts, e.g. "118 MiB / 256 MiB". */
export function formatUsage(free: number | null | undefined, total: number | null | undefined): string {
  if (
    free === null || free === undefined || total === null || total === undefined ||
    !Number.isFinite(free) || !Number.isFinite(total) || total <= 0
  ) {
    return DASH;
  }
  const used = Math.min(Math.max(total - free, 0), total);
  return `${formatBytes(used)} / ${formatBytes(total)}`;
}

/**
 * Uptime as "3d 4h 12m". Under a minute shows seconds ("42s"); once a larger
 * unit appears every smaller unit down to minutes is shown ("1d 0h 0m").
 */
export function formatUptime(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) {
    return DASH;
  }
  const total = Math.floor(seconds);
  if (total < 60) {
    return `${total}s`;
  }
  const days = Math.floor(total / 86_400);
  const hours = Math.floor((total % 86_400) / 3_600);
  const minutes = Math.floor((total % 3_600) / 60);
  if (days > 0) return `${days}d ${hours}h ${minutes}m`;
  if (hours > 0) return `${hours}h ${minutes}m`;
  return `${minutes}m`;
}

/**
 * Time since `ms` (epoch milliseconds) relative to `now`:
 * "just now", "2 min ago", "5 h ago", "1 day ago", "12 days ago".
 * Timestamps slightly in the future (clock skew) count as "just now".
 */
export function formatRelative(ms: number | null | undefined, now: number): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) {
    return 'never';
  }
  const diff = Math.max(0, now - ms);
  const secs = Math.floor(diff / 1000);
  if (secs < 60) return 'just now';
  const mins = Math.floor(secs / 60);
  if (mins < 60) return `${mins} min ago`;
  const hours = Math.floor(mins / 60);
  if (hours < 24) return `${hours} h ago`;
  const days = Math.floor(hours / 24);
  return days === 1 ? '1 day ago' : `${days} days ago`;
}

/** Absolute local timestamp for tooltips and the detail panel. */
export function formatTimestamp(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return DASH;
  return new Date(ms).toLocaleString();
}

/** CPU load as "37%", or a dash when unknown. */
export function formatPercent(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return DASH;
  return `${Math.round(value)}%`;
}

/** "host:port", with IPv6 literals bracketed ("[fe80::1]:8728"). */
export function hostPort(device: Pick<Device, 'host' | 'port'>): string {
  const host = device.host.includes(':') && !device.host.startsWith('[') ? `[${device.host}]` : device.host;
  return `${host}:${device.port}`;
}

/** The router's identity when known, otherwise its address. */
export function deviceTitle(device: Pick<Device, 'identity' | 'host' | 'port'>): string {
  const identity = device.identity?.trim();
  return identity ? identity : hostPort(device);
}

/** How each router state reads in the list, the detail and the overview. */
export const STATUS_LABEL: Record<RouterState, string> = {
  online: 'online',
  degraded: 'degraded',
  offline: 'offline',
  'never-seen': 'never seen',
};

/** Base64 of the UTF-8 bytes of `text` (btoa alone only handles Latin-1). */
export function utf8ToBase64(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let binary = '';
  const chunk = 0x8000;
  for (let i = 0; i < bytes.length; i += chunk) {
    binary += String.fromCharCode(...bytes.subarray(i, i + chunk));
  }
  return btoa(binary);
}

/** An `<img src>` for an SVG document, safe under the app's CSP (img-src data:). */
export function svgDataUrl(svg: string): string {
  return `data:image/svg+xml;base64,${utf8ToBase64(svg)}`;
}

/** Header status line, e.g. "Embedded store · /home/me/.local/share/fleetdeck/fleet.db · passwords in OS keyring". */
export function storeSummary(info: StoreInfo): string {
  const store = info.backend === 'mysql' ? 'MySQL store' : 'Embedded store';
  const creds =
    info.credentials.backend === 'keyring' ? 'passwords in OS keyring' : 'passwords in protected file';
  return `${store} · ${info.location} · ${creds}`;
}

/** `950 bit/s`, `12.5 Mbit/s`: decimal prefixes, as RouterOS shows rates. */
export function formatBps(bps: number | null | undefined): string {
  if (bps === null || bps === undefined || !Number.isFinite(bps)) return DASH;
  const prefixes = ['', 'k', 'M', 'G'];
  let v = Math.max(0, bps);
  let i = 0;
  while (v >= 1000 && i < prefixes.length - 1) {
    v /= 1000;
    i++;
  }
  const digits = i === 0 || v >= 100 ? 0 : 1;
  return `${v.toFixed(digits)} ${prefixes[i]}bit/s`;
}

/** What a template step did (or would do) to a router, in the push's words. */
export function describeOutcome(o: Outcome): string {
  switch (o.outcome) {
    case 'added':
      return 'added';
    case 'changed':
      return `changed ${o.properties.join(', ')}`;
    case 'unchanged':
      return 'already so';
    case 'removed':
      return `removed ${o.items}`;
    case 'ran':
      return 'ran';
    case 'wouldChange':
      return `would change ${o.properties.join(', ')}`;
    case 'wouldAdd':
      return 'would add';
    case 'wouldRemove':
      return `would remove ${o.items}`;
    case 'wouldRun':
      return 'would run';
    case 'imported':
      return `imported: ${o.output}`;
    case 'wouldImport':
      return o.checked ? `import checked: ${o.output}` : o.output;
    case 'failed':
      return `failed: ${o.message}`;
  }
}
