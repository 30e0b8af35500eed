// Pure helpers of the router detail view: chart windows, alert wording,
// the live monitor's sparkline.

export const CHART_WINDOWS: readonly { secs: number; label: string }[] = [
  { secs: 3600, label: '1 hour' },
  { secs: 6 * 3600, label: '6 hours' },
  { secs: 24 * 3600, label: '24 hours' },
  { secs: 7 * 86_400, label: '7 days' },
  { secs: 30 * 86_400, label: '30 days' },
];

export type Tone = 'bad' | 'warn' | 'good';

const ALERTS: Record<string, { text: string; tone: Tone }> = {
  'alert.cpu-high': { text: 'CPU high', tone: 'warn' },
  'alert.memory-low': { text: 'Memory low', tone: 'warn' },
  'alert.storage-low': { text: 'Storage low', tone: 'warn' },
  'alert.firmware-behind': { text: 'Firmware behind', tone: 'warn' },
  'alert.rebooted': { text: 'Rebooted', tone: 'warn' },
  'alert.config-drift': { text: 'Changed outside Fleetdeck', tone: 'warn' },
  'health.offline': { text: 'Offline', tone: 'bad' },
  'health.degraded': { text: 'Missing polls', tone: 'warn' },
  'health.online': { text: 'Back online', tone: 'good' },
};

/** How an alert or health event is named in the list. */
export function alertLabel(action: string): { text: string; tone: Tone } {
  return ALERTS[action] ?? { text: action.replace(/^(alert|health)\./, '').replace(/-/g, ' '), tone: 'warn' };
}

export interface LiveSample {
  at: number;
  rx: number;
  tx: number;
}

/**
 * SVG polyline points for the received and sent rates, scaled to the
 * largest value shown; the newest sample at the right edge, one second
 * per 1/60 of the width.
 */
export function sparkline(samples: readonly LiveSample[], width: number, height: number): { rx: string; tx: string } {
  const max = Math.max(1, ...samples.map((s) => Math.max(s.rx, s.tx)));
  const step = width / 59;
  const offset = 60 - samples.length;
  const pts = (pick: (s: LiveSample) => number) =>
    samples
      .map((s, i) => {
        const x = (offset + i) * step;
        const y = height - 2 - (pick(s) / max) * (height - 4);
        return `${x.toFixed(1)},${y.toFixed(1)}`;
      })
      .join(' ');
  return { rx: pts((s) => s.rx), tx: pts((s) => s.tx) };
}
