import { describe, expect, it } from 'vitest';
import { allTags, filterDevices, NO_FILTER } from './devices';
import { device } from './test-fixtures';

const list = [
  device({ id: 'a', identity: 'core-10', host: '10.0.0.10', cpuLoad: 5, lastCheckinAt: 3_000, version: '7.16.2', state: 'online' }),
  device({ id: 'b', identity: 'core-2', host: '10.0.0.2', cpuLoad: 80, lastCheckinAt: 1_000, tags: ['north'], state: 'degraded' }),
  device({ id: 'c', host: '10.0.1.1', lastError: 'refused the login', state: 'offline', lastCheckinAt: 500 }),
  device({ id: 'd', identity: 'edge-1', host: '192.168.88.1', tags: ['simulated'] }),
];

const ids = (ds: { id: string }[]) => ds.map((d) => d.id);

describe('filterDevices', () => {
  it('sorts names naturally, addresses, busiest and stalest first', () => {
    expect(ids(filterDevices(list, NO_FILTER))).toEqual(['c', 'b', 'a', 'd']);
    expect(ids(filterDevices(list, { ...NO_FILTER, sort: 'cpu' }))).toEqual(['b', 'a', 'c', 'd']);
    expect(ids(filterDevices(list, { ...NO_FILTER, sort: 'checkin' }))).toEqual(['d', 'c', 'b', 'a']);
  });

  it('finds by every word across name, address, version and tags', () => {
    expect(ids(filterDevices(list, { ...NO_FILTER, query: 'CORE 7.16' }))).toEqual(['a']);
    expect(ids(filterDevices(list, { ...NO_FILTER, query: 'north' }))).toEqual(['b']);
    expect(ids(filterDevices(list, { ...NO_FILTER, query: 'simulated' }))).toEqual(['d']);
    expect(filterDevices(list, { ...NO_FILTER, query: 'nothing-like-this' })).toEqual([]);
  });

  it('filters by the state Rust judged, or by a failed last poll', () => {
    expect(ids(filterDevices(list, { ...NO_FILTER, status: 'failing' }))).toEqual(['c']);
    expect(ids(filterDevices(list, { ...NO_FILTER, status: 'never-seen' }))).toEqual(['d']);
    expect(ids(filterDevices(list, { ...NO_FILTER, status: 'online' }))).toEqual(['a']);
    expect(ids(filterDevices(list, { ...NO_FILTER, status: 'degraded' }))).toEqual(['b']);
    expect(ids(filterDevices(list, { ...NO_FILTER, status: 'offline' }))).toEqual(['c']);
  });

  it('filters by site (or no site) and by tag, and lists the tags', () => {
    const sited = [
      device({ id: 'p', siteId: 's1', tags: ['core', 'north'] }),
      device({ id: 'q', siteId: 's2', tags: ['edge'] }),
      device({ id: 'r', siteId: null, tags: ['core'] }),
    ];
    expect(ids(filterDevices(sited, { ...NO_FILTER, site: 's1' }))).toEqual(['p']);
    expect(ids(filterDevices(sited, { ...NO_FILTER, site: 'none' }))).toEqual(['r']);
    expect(ids(filterDevices(sited, { ...NO_FILTER, tag: 'core' })).sort()).toEqual(['p', 'r']);
    expect(ids(filterDevices(sited, { ...NO_FILTER, tag: 'core', site: 's2' }))).toEqual([]);
    expect(allTags(sited)).toEqual(['core', 'edge', 'north']);
  });

  it('leaves the input alone', () => {
    const copy = [...list];
    filterDevices(list, { ...NO_FILTER, sort: 'cpu' });
    expect(list).toEqual(copy);
  });
});
