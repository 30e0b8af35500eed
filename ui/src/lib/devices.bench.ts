// Filter latency on a 10,000-router list (issue 7's goal: < 100 ms).
// Run: npx vitest bench --run (prints the figures).
import { bench, describe } from 'vitest';
import { filterDevices, NO_FILTER } from './devices';
import { device } from './test-fixtures';

const fleet = Array.from({ length: 10_000 }, (_, i) =>
  device({
    id: `d${i}`,
    identity: `site-${i % 400}-rtr-${i}`,
    host: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
    cpuLoad: (i * 37) % 100,
    lastCheckinAt: 1_700_000_000_000 + i * 1000,
    version: ['7.16.2', '7.18.2', '6.49.13'][i % 3],
    tags: i % 10 === 0 ? ['core'] : ['edge'],
    state: i % 7 === 0 ? 'degraded' : 'online',
  }),
);
// Warm the search index, as a list shown once has.
filterDevices(fleet, { ...NO_FILTER, query: 'x' });

describe('10,000 routers', () => {
  bench('type "rtr-99" (search, sort by name)', () => {
    filterDevices(fleet, { ...NO_FILTER, query: 'rtr-99' });
  });
  bench('state filter and sort by CPU', () => {
    filterDevices(fleet, { ...NO_FILTER, status: 'online', sort: 'cpu' });
  });
  bench('no filter, sort by name (worst case)', () => {
    filterDevices(fleet, NO_FILTER);
  });
});
