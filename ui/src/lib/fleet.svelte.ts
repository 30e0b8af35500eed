// What the window has read from Rust, and the calls that read it: the store,
// the settings, the router list and sites, check-ins and history. Not view
// state (that is view.svelte.ts): this is the data the views show.
//
// One instance per app window, handed down by context like the view state.
import { createContext } from 'svelte';
import * as api from './api';
import type { Checkin, Device, DeviceHistory, NewDevice, Settings, Site, StoreInfo } from './api';
import type { ViewState } from './view.svelte';

export class FleetData {
  info = $state<StoreInfo | null>(null);
  infoFailed = $state(false);
  // Replaced whole on each reload, never edited in place: no deep proxies
  // over ten thousand rows.
  devices = $state.raw<Device[]>([]);
  devicesLoading = $state(true);
  sites = $state.raw<Site[]>([]);
  settings = $state<Settings>({ ...api.DEFAULT_SETTINGS });
  checkins = $state<Record<string, Checkin>>({});
  history = $state<Record<string, DeviceHistory>>({});
  /** Routers being polled from their detail page. */
  polling = $state<Record<string, boolean>>({});
  /** Bumped after a poll so the open router's charts are read again. */
  chartRefresh = $state(0);
  /** When the shared database was last copied here; null: no shared database. */
  syncedAt = $state<number | null>(null);
  /** The clock relative times ("2 min ago") are measured from. */
  now = $state(Date.now());

  private readonly view: ViewState;

  /** Failures go to `view`'s banner; its open router is kept current. */
  constructor(view: ViewState) {
    this.view = view;
  }

  /**
   * Reads everything once, then keeps the clock (every `tickMs`) and the
   * router list (every `listRefreshMs`) current. Returns the stop.
   */
  start(tickMs: number, listRefreshMs: number): () => void {
    const timer = setInterval(() => (this.now = Date.now()), tickMs);
    // Routers are polled in the background (the demo fleet, telemetry):
    // keep the list's facts current.
    const listTimer = setInterval(() => void this.refreshDevices(), listRefreshMs);

    void this.loadStoreInfo();
    void this.loadSettings();
    void this.refreshDevices();
    void this.loadSync();
    void this.loadSites();

    return () => {
      clearInterval(timer);
      clearInterval(listTimer);
    };
  }

  async loadStoreInfo() {
    try {
      this.info = await api.storeInfo();
      this.infoFailed = false;
    } catch (err) {
      this.infoFailed = true;
      this.view.report(err);
    }
  }

  async loadSettings() {
    try {
      this.settings = await api.getSettings();
    } catch (err) {
      this.view.report(err);
    }
  }

  async saveSettings(next: Settings): Promise<boolean> {
    try {
      this.settings = await api.saveSettings(next);
      return true;
    } catch (err) {
      this.view.report(err);
      return false;
    }
  }

  async loadSync() {
    try {
      const s = await api.syncStatus();
      this.syncedAt = s.sharedUrl && s.lastSync ? s.lastSync.at : null;
    } catch (err) {
      this.view.report(err);
    }
  }

  async loadSites() {
    try {
      this.sites = await api.listSites();
    } catch (err) {
      this.view.report(err);
    }
  }

  async refreshDevices() {
    try {
      this.devices = await api.listDevices(this.settings.pollIntervalSecs);
      this.now = Date.now();
      const open = this.view.selectedId;
      if (open !== null) void this.loadLatestCheckin(open);
    } catch (err) {
      this.view.report(err);
    } finally {
      this.devicesLoading = false;
    }
  }

  /** The router list and the sites, e.g. after an import or a sync. */
  reloadList() {
    void this.refreshDevices();
    void this.loadSites();
  }

  async loadHistory(id: string) {
    try {
      this.history[id] = await api.deviceHistory(id);
    } catch (err) {
      this.view.report(err);
    }
  }

  /**
   * The router's last check-in from the store when it is newer than the one
   * shown (background polling and syncs store them without this window
   * polling).
   */
  async loadLatestCheckin(id: string) {
    const device = this.devices.find((d) => d.id === id);
    const shown = this.checkins[id]?.checkedInAt ?? null;
    if (!device || device.lastCheckinAt === null || (shown !== null && shown >= device.lastCheckinAt)) return;
    try {
      const latest = await api.latestCheckin(id);
      if (latest && (this.checkins[id]?.checkedInAt ?? -1) < latest.checkedInAt) this.checkins[id] = latest;
    } catch (err) {
      this.view.report(err);
    }
  }

  /** Shows a router and reads what its page needs. */
  openRouter(id: string) {
    this.view.select(id);
    void this.loadHistory(id);
    void this.loadLatestCheckin(id);
  }

  /** Adds a router and opens it; false when it was not added (already reported). */
  async addDevice(input: NewDevice): Promise<boolean> {
    let added: Device;
    try {
      added = await api.addDevice(input);
    } catch (err) {
      this.view.report(err);
      return false;
    }
    await this.refreshDevices();
    if (!this.devices.some((d) => d.id === added.id)) {
      this.devices = [...this.devices, added];
    }
    this.openRouter(added.id);
    return true;
  }

  async pollNow(id: string) {
    if (this.polling[id]) return;
    this.polling[id] = true;
    try {
      this.checkins[id] = await api.pollDevice(id);
    } catch (err) {
      this.view.report(err);
    } finally {
      this.polling[id] = false;
    }
    // Refresh either way: a failed poll records lastError on the device.
    this.chartRefresh++;
    await Promise.all([this.refreshDevices(), this.loadHistory(id)]);
  }
}

const [getFleet, setFleet] = createContext<FleetData>();

/** `getFleet()`: the window's data (throws outside App); `setFleet(f)`: provides it. */
export { getFleet, setFleet };
