import { describe, expect, it } from 'vitest';
import { allTags, filterDevices, NO_FILTER } from './devices';
import { device } from './test-fixtures';

const list = [
  device({ id: 'a', identity: 'core-10', host: '10.0.0.10', cpuLoad: 5, lastCheckinAt: 3_000, version: '7.16.2' }),
  device({ id: 'b', identity: 'core-2', host: '10.0.0.2', cpuLoad: 80, lastCheckinAt: 1_000, tags: ['north'] }),
  device({ id: 'c', host: '10.0.1.1', lastError: 'refused the login' }),
  device({ id: 'd', identity: 'edge-1', host: '192.168.88.1', tags: ['simulated'] }),
];

const ids = (ds: { id: string }[]) => ds.map((d) => d.id);
// Judged just after the last check-in, at a 1-s poll interval: a checked in
// 0.5 s ago (online), b 2.5 s ago (missed a poll).
const clock = { now: 3_500, intervalSecs: 1 };

describe('filterDevices', () => {
  it('sorts names naturally, addresses, busiest and stalest first', () => {
    expect(ids(filterDevices(list, NO_FILTER, clock))).toEqual(['c', 'b', 'a', 'd']);
    expect(ids(filterDevices(list, { ...NO_FILTER, sort: 'cpu' }, clock))).toEqual(['b', 'a', 'c', 'd']);
    expect(ids(filterDevices(list, { ...NO_FILTER, sort: 'checkin' }, clock)).slice(0, 2)).toEqual(['c', 'd']);
    expect(ids(filterDevices(list, { ...NO_FILTER, sort: 'checkin' }, clock)).slice(2)).toEqual(['b', 'a']);
  });

  it('finds by every word across name, address, version and tags', () => {
    expect(ids(filterDevices(list, { ...NO_FILTER, query: 'CORE 7.16' }, clock))).toEqual(['a']);
    expect(ids(filterDevices(list, { ...NO_FILTER, query: 'north' }, clock))).toEqual(['b']);
    expect(ids(filterDevices(list, { ...NO_FILTER, query: 'simulated' }, clock))).toEqual(['d']);
    expect(filterDevices(list, { ...NO_FILTER, query: 'nothing-like-this' }, clock)).toEqual([]);
  });

  it('filters by state', () => {
    expect(ids(filterDevices(list, { ...NO_FILTER, status: 'error' }, clock))).toEqual(['c']);
    expect(ids(filterDevices(list, { ...NO_FILTER, status: 'never' }, clock))).toEqual(['d']);
    expect(ids(filterDevices(list, { ...NO_FILTER, status: 'ok' }, clock))).toEqual(['a']);
    expect(ids(filterDevices(list, { ...NO_FILTER, status: 'degraded' }, clock))).toEqual(['b']);
    expect(ids(filterDevices(list, { ...NO_FILTER, status: 'offline' }, { now: 10_000, intervalSecs: 1 }))).toEqual([
      'b',
      'a',
    ]);
  });

  it('filters by site (or no site) and by tag, and lists the tags', () => {
    const sited = [
      device({ id: 'p', siteId: 's1', tags: ['core', 'north'] }),
      device({ id: 'q', siteId: 's2', tags: ['edge'] }),
      device({ id: 'r', siteId: null, tags: ['core'] }),
    ];
    expect(ids(filterDevices(sited, { ...NO_FILTER, site: 's1' }, clock))).toEqual(['p']);
    expect(ids(filterDevices(sited, { ...NO_FILTER, site: 'none' }, clock))).toEqual(['r']);
    expect(ids(filterDevices(sited, { ...NO_FILTER, tag: 'core' }, clock)).sort()).toEqual(['p', 'r']);
    expect(ids(filterDevices(sited, { ...NO_FILTER, tag: 'core', site: 's2' }, clock))).toEqual([]);
    expect(allTags(sited)).toEqual(['core', 'edge', 'north']);
  });

  it('leaves the input alone', () => {
    const copy = [...list];
    filterDevices(list, { ...NO_FILTER, sort: 'cpu' }, clock);
    expect(list).toEqual(copy);
  });
});
