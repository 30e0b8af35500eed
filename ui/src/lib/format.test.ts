import { describe, expect, it } from 'vitest';
import {
  describeOutcome,
  deviceTitle,
  formatBytes,
  formatPercent,
  formatRelative,
  formatUptime,
  formatUsage,
  hostPort,
  storeSummary,
  svgDataUrl,
  utf8ToBase64,
} from './format';
import { device } from './test-fixtures';

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;


describe('formatBytes', () => {
  it('handles zero and plain bytes', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1)).toBe('1 B');
    expect(formatBytes(1023)).toBe('1023 B');
  });

  it('switches unit exactly at 1024', () => {
    expect(formatBytes(1024)).toBe('1.0 KiB');
    expect(formatBytes(MiB)).toBe('1.0 MiB');
    expect(formatBytes(GiB)).toBe('1.0 GiB');
    expect(formatBytes(MiB - 1)).toBe('1.0 MiB'); // 1023.999 KiB rounds up into the next unit
  });

  it('keeps one decimal below 100 and none from 100', () => {
    expect(formatBytes(1.5 * KiB)).toBe('1.5 KiB');
    expect(formatBytes(99.94 * MiB)).toBe('99.9 MiB');
    expect(formatBytes(100 * MiB)).toBe('100 MiB');
    expect(formatBytes(118.4 * MiB)).toBe('118 MiB');
    expect(formatBytes(1023 * MiB)).toBe('1023 MiB');
  });

  it('handles large values', () => {
    expect(formatBytes(2 * 1024 * GiB)).toBe('2.0 TiB');
    expect(formatBytes(5 * 1024 ** 5)).toBe('5.0 PiB');
    expect(formatBytes(4096 * 1024 ** 5)).toBe('4096 PiB'); // no unit beyond PiB
  });

  it('returns a dash for unusable input', () => {
    expect(formatBytes(-1)).toBe('—');
    expect(formatBytes(Number.NaN)).toBe('—');
    expect(formatBytes(Number.POSITIVE_INFINITY)).toBe('—');
    expect(formatBytes(null)).toBe('—');
    expect(formatBytes(undefined)).toBe('—');
  });
});

describe('formatUsage', () => {
  it('shows used over total', () => {
    expect(formatUsage(138 * MiB, 256 * MiB)).toBe('118 MiB / 256 MiB');
    expect(formatUsage(0, GiB)).toBe('1.0 GiB / 1.0 GiB');
    expect(formatUsage(GiB, GiB)).toBe('0 B / 1.0 GiB');
  });

  it('clamps impossible free values and rejects a zero total', () => {
    expect(formatUsage(2 * GiB, GiB)).toBe('0 B / 1.0 GiB');
    expect(formatUsage(0, 0)).toBe('—');
    expect(formatUsage(null, GiB)).toBe('—');
  });
});

describe('formatUptime', () => {
  it('shows seconds under a minute, including zero', () => {
    expect(formatUptime(0)).toBe('0s');
    expect(formatUptime(59)).toBe('59s');
    expect(formatUptime(59.9)).toBe('59s');
  });

  it('switches at exact minute, hour and day boundaries', () => {
    expect(formatUptime(60)).toBe('1m');
    expect(formatUptime(3599)).toBe('59m');
    expect(formatUptime(3600)).toBe('1h 0m');
    expect(formatUptime(86_399)).toBe('23h 59m');
    expect(formatUptime(86_400)).toBe('1d 0h 0m');
  });

  it('formats the documented example and large values', () => {
    expect(formatUptime(3 * 86_400 + 4 * 3_600 + 12 * 60 + 30)).toBe('3d 4h 12m');
    expect(formatUptime(1000 * 86_400 + 61)).toBe('1000d 0h 1m');
  });

  it('returns a dash for unusable input', () => {
    expect(formatUptime(-5)).toBe('—');
    expect(formatUptime(Number.NaN)).toBe('—');
    expect(formatUptime(null)).toBe('—');
  });
});

describe('formatRelative', () => {
  const now = 1_700_000_000_000;

  it('says never for a missing timestamp', () => {
    expect(formatRelative(null, now)).toBe('never');
    expect(formatRelative(undefined, now)).toBe('never');
  });

  it('says just now under a minute and for small clock skew', () => {
    expect(formatRelative(now, now)).toBe('just now');
    expect(formatRelative(now - 59_999, now)).toBe('just now');
    expect(formatRelative(now + 5_000, now)).toBe('just now');
  });

  it('uses minutes, hours and days at exact boundaries', () => {
    expect(formatRelative(now - 60_000, now)).toBe('1 min ago');
    expect(formatRelative(now - 2 * 60_000 - 30_000, now)).toBe('2 min ago');
    expect(formatRelative(now - 3_599_999, now)).toBe('59 min ago');
    expect(formatRelative(now - 3_600_000, now)).toBe('1 h ago');
    expect(formatRelative(now - 86_399_999, now)).toBe('23 h ago');
    expect(formatRelative(now - 86_400_000, now)).toBe('1 day ago');
    expect(formatRelative(now - 2 * 86_400_000, now)).toBe('2 days ago');
    expect(formatRelative(now - 400 * 86_400_000, now)).toBe('400 days ago');
  });
});

describe('formatPercent', () => {
  it('rounds and handles unknown values', () => {
    expect(formatPercent(0)).toBe('0%');
    expect(formatPercent(37)).toBe('37%');
    expect(formatPercent(99.6)).toBe('100%');
    expect(formatPercent(null)).toBe('—');
  });
});

describe('deviceTitle / hostPort', () => {
  it('prefers the identity', () => {
    expect(deviceTitle(device({ identity: 'core-sw1' }))).toBe('core-sw1');
  });

  it('falls back to host:port for a null or blank identity', () => {
    expect(deviceTitle(device())).toBe('10.0.0.1:8728');
    expect(deviceTitle(device({ identity: '   ' }))).toBe('10.0.0.1:8728');
  });

  it('brackets IPv6 literals', () => {
    expect(hostPort(device({ host: 'fe80::1', port: 8729 }))).toBe('[fe80::1]:8729');
    expect(hostPort(device({ host: '[fe80::1]', port: 8729 }))).toBe('[fe80::1]:8729');
    expect(hostPort(device({ host: 'router.lan', port: 1 }))).toBe('router.lan:1');
  });
});

describe('svgDataUrl', () => {
  it('base64-encodes ASCII SVG', () => {
    const svg = '<svg xmlns="http://www.w3.org/2000/svg"/>';
    expect(svgDataUrl(svg)).toBe(`data:image/svg+xml;base64,${btoa(svg)}`);
  });

  it('encodes non-Latin-1 text as UTF-8 (btoa alone would throw)', () => {
    const svg = '<svg><text>CPU — 50% · Роутер ✓</text></svg>';
    expect(() => btoa(svg)).toThrow();
    const url = svgDataUrl(svg);
    expect(url.startsWith('data:image/svg+xml;base64,')).toBe(true);
    const b64 = url.slice('data:image/svg+xml;base64,'.length);
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    expect(new TextDecoder().decode(bytes)).toBe(svg);
  });

  it('handles empty and large inputs', () => {
    expect(utf8ToBase64('')).toBe('');
    const big = `<svg>${'é'.repeat(100_000)}</svg>`;
    const bytes = Uint8Array.from(atob(utf8ToBase64(big)), (c) => c.charCodeAt(0));
    expect(new TextDecoder().decode(bytes)).toBe(big);
  });
});

describe('storeSummary', () => {
  it('describes the embedded store with a keyring', () => {
    expect(
      storeSummary({
        backend: 'sqlite',
        location: '/home/tech/.local/share/fleetdeck/fleet.db',
        credentials: { backend: 'keyring', warning: null },
      }),
    ).toBe('Embedded store · /home/tech/.local/share/fleetdeck/fleet.db · passwords in OS keyring');
  });

  it('describes a MySQL store with file credentials', () => {
    expect(
      storeSummary({
        backend: 'mysql',
        location: 'db.example:3306/fleet',
        credentials: { backend: 'file', warning: 'x' },
      }),
    ).toBe('MySQL store · db.example:3306/fleet · passwords in protected file');
  });
});

describe('describeOutcome', () => {
  it('words what a step did or would do', () => {
    expect(describeOutcome({ outcome: 'changed', items: 1, properties: ['name', 'comment'] })).toBe('changed name, comment');
    expect(describeOutcome({ outcome: 'unchanged' })).toBe('already so');
    expect(describeOutcome({ outcome: 'wouldRemove', items: 2 })).toBe('would remove 2');
    expect(describeOutcome({ outcome: 'wouldImport', checked: true, output: 'ok' })).toBe('import checked: ok');
    expect(describeOutcome({ outcome: 'wouldImport', checked: false, output: 'not checked' })).toBe('not checked');
    expect(describeOutcome({ outcome: 'failed', message: 'no such item', lost: false })).toBe('failed: no such item');
  });
});
