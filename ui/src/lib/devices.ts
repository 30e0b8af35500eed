// Filtering and sorting the router list: pure functions, fast on tens of
// thousands of rows (see devices.bench.ts).
import type { Device, RouterState } from './api';
import { deviceTitle, hostPort } from './format';

export type SortKey = 'name' | 'address' | 'cpu' | 'checkin';

export interface DeviceFilter {
  /** Words that must all appear in the name, address, version or tags. */
  query: string;
  /** A state (as judged in Rust), `failing` (the last poll failed) or `all`. */
  status: RouterState | 'failing' | 'all';
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

// Sorted copies per list and key: the list is replaced, not mutated, on
// reload, so a keystroke only filters (sorting 10,000 names each time was
// most of the filter's cost).
const sortedCache = new WeakMap<readonly Device[], Map<SortKey, Device[]>>();

function sortedBy(devices: readonly Device[], key: SortKey): Device[] {
  let byKey = sortedCache.get(devices);
  if (!byKey) {
    byKey = new Map();
    sortedCache.set(devices, byKey);
  }
  let out = byKey.get(key);
  if (!out) {
    out = [...devices];
    switch (key) {
      case 'name':
        out.sort((a, b) => collator.compare(deviceTitle(a), deviceTitle(b)));
        break;
      case 'address':
        out.sort((a, b) => collator.compare(hostPort(a), hostPort(b)));
        break;
      case 'cpu':
        // Busiest first; routers without a reading last.
        out.sort((a, b) => (b.cpuLoad ?? -1) - (a.cpuLoad ?? -1));
        break;
      case 'checkin':
        // Stalest first: what needs attention; never polled on top.
        out.sort((a, b) => (a.lastCheckinAt ?? -Infinity) - (b.lastCheckinAt ?? -Infinity));
        break;
    }
    byKey.set(key, out);
  }
  return out;
}

/** The routers `f` lets through, in its order. */
export function filterDevices(devices: readonly Device[], f: DeviceFilter): Device[] {
  const words = f.query.toLowerCase().split(/\s+/).filter(Boolean);
  const siteOk = (d: Device) =>
    f.site === 'all' || (f.site === 'none' ? d.siteId === null : d.siteId === f.site);
  return sortedBy(devices, f.sort).filter(
    (d) =>
      (f.status === 'all' || (f.status === 'failing' ? d.lastError !== null : d.state === f.status)) &&
      siteOk(d) &&
      (f.tag === 'all' || (d.tags ?? []).includes(f.tag)) &&
      words.every((w) => haystack(d).includes(w)),
  );
}
