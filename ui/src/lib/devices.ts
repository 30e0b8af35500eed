// Filtering and sorting the router list: pure functions, fast on tens of
// thousands of rows (see devices.bench.ts).
import type { Device } from './api';
import { deviceStatus, deviceTitle, hostPort, type DeviceStatus } from './format';

export type SortKey = 'name' | 'address' | 'cpu' | 'checkin';

export interface DeviceFilter {
  /** Words that must all appear in the name, address, version or tags. */
  query: string;
  status: DeviceStatus | 'all';
  /** A site id, `none` for routers without a site, or `all`. */
  site: string;
  /** A tag the router must carry, or `all`. */
  tag: string;
  sort: SortKey;
}

export const NO_FILTER: DeviceFilter = { query: '', status: 'all', site: 'all', tag: 'all', sort: 'name' };

/** Every tag in the list, sorted, for the tag filter. */
export function allTags(devices: readonly Device[]): string[] {
  const tags = new Set<string>();
  for (const d of devices) for (const t of d.tags ?? []) tags.add(t);
  return [...tags].sort(collator.compare);
}

// Search text per device object, built once (devices are replaced, not
// mutated, when the list reloads).
const searchText = new WeakMap<Device, string>();

function haystack(d: Device): string {
  let s = searchText.get(d);
  if (s === undefined) {
    s = [deviceTitle(d), hostPort(d), d.version ?? '', d.board ?? '', ...(d.tags ?? [])].join(' ').toLowerCase();
    searchText.set(d, s);
  }
  return s;
}

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

export function filterDevices(devices: readonly Device[], f: DeviceFilter): Device[] {
  const words = f.query.toLowerCase().split(/\s+/).filter(Boolean);
  const siteOk = (d: Device) =>
    f.site === 'all' || (f.site === 'none' ? d.siteId === null : d.siteId === f.site);
  const out = devices.filter(
    (d) =>
      (f.status === 'all' || deviceStatus(d) === f.status) &&
      siteOk(d) &&
      (f.tag === 'all' || (d.tags ?? []).includes(f.tag)) &&
      words.every((w) => haystack(d).includes(w)),
  );
  switch (f.sort) {
    case 'name':
      return out.sort((a, b) => collator.compare(deviceTitle(a), deviceTitle(b)));
    case 'address':
      return out.sort((a, b) => collator.compare(hostPort(a), hostPort(b)));
    case 'cpu':
      // Busiest first; routers without a reading last.
      return out.sort((a, b) => (b.cpuLoad ?? -1) - (a.cpuLoad ?? -1));
    case 'checkin':
      // Stalest first: what needs attention; never polled on top.
      return out.sort((a, b) => (a.lastCheckinAt ?? -Infinity) - (b.lastCheckinAt ?? -Infinity));
  }
}
