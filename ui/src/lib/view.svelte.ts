// The UI's shared view state, in one place: which page the main area shows,
// the router open there, the router list's filter and ticked routers, the
// routers a push starts with, and the error banner.
//
// One instance per app window: App creates it and hands it down by context
// (`setView`), components below read it with `getView()`. A new App (a new
// window, a new test) starts from a fresh one.
import { createContext } from 'svelte';
import { normalizeError, type ApiError, type Device } from './api';
import { NO_FILTER, type DeviceFilter } from './devices';

/** A tool page over the main area; `main` shows the overview or a router. */
export type Page = 'main' | 'provision' | 'templates' | 'sync' | 'import' | 'backups';
export type ToolPage = Exclude<Page, 'main'>;

export class ViewState {
  page = $state<Page>('main');
  /** The settings panel, drawn over whichever page is open. */
  showSettings = $state(false);
  /** The router open on the main page; null: the fleet overview. */
  selectedId = $state<string | null>(null);
  /** The router list's search, filters and sort. */
  filter = $state<DeviceFilter>({ ...NO_FILTER });
  /** Routers ticked in the list for a bulk action; replaced whole, never edited in place. */
  checked = $state.raw<ReadonlySet<string>>(new Set());
  /** Routers the Provision page starts with. */
  provisionTargets = $state.raw<string[]>([]);
  /** What the error banner shows. */
  error = $state<ApiError | null>(null);

  /** The fleet overview is showing (no router, tool page or settings over it). */
  get onOverview(): boolean {
    return this.selectedId === null && !this.showSettings && this.page === 'main';
  }

  /** `page` is open and not hidden by the settings. */
  isOpen(page: ToolPage): boolean {
    return this.page === page && !this.showSettings;
  }

  showOverview(): void {
    this.selectedId = null;
    this.showSettings = false;
    this.page = 'main';
  }

  /** Opens a tool page; Provision starts with the router open, if any. */
  openPage(page: ToolPage): void {
    this.showSettings = false;
    if (page === 'provision') this.provisionTargets = this.selectedId ? [this.selectedId] : [];
    this.page = page;
  }

  /** Shows a router on the main page. */
  select(id: string): void {
    this.showSettings = false;
    this.page = 'main';
    this.selectedId = id;
  }

  openSettings(): void {
    this.showSettings = true;
  }

  closeSettings(): void {
    this.showSettings = false;
  }

  /** Ticks or unticks one router. */
  check(id: string, on: boolean): void {
    this.checkAll([id], on);
  }

  /** Ticks or unticks every router in `ids`, keeping the others as they are. */
  checkAll(ids: Iterable<string>, on: boolean): void {
    const next = new Set(this.checked);
    for (const id of ids) {
      if (on) next.add(id);
      else next.delete(id);
    }
    this.checked = next;
  }

  clearChecked(): void {
    this.checked = new Set();
  }

  /** The ticked routers that are in `devices`, in its order. */
  checkedAmong(devices: readonly Device[]): string[] {
    return devices.filter((d) => this.checked.has(d.id)).map((d) => d.id);
  }

  /** Opens the Provision page with `ids` chosen. */
  pushTo(ids: string[]): void {
    this.provisionTargets = ids;
    this.showSettings = false;
    this.page = 'provision';
  }

  /** Shows a failure in the banner; passed to components as their `onerror`. */
  report = (err: unknown): void => {
    this.error = normalizeError(err);
  };

  dismissError(): void {
    this.error = null;
  }
}

const [getView, setView] = createContext<ViewState>();

/** `getView()`: the window's view state (throws outside App); `setView(v)`: provides it. */
export { getView, setView };
