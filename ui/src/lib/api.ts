// The single place the UI talks to the Rust side. Every command name and
// argument key here is part of the IPC contract; keep them in sync with
// src-tauri's #[tauri::command] handlers.
import { Channel, invoke as tauriInvoke } from '@tauri-apps/api/core';

export type ErrorKind =
  | 'auth'
  | 'unreachable'
  | 'timeout'
  | 'protocol'
  | 'router'
  | 'store'
  | 'credentials'
  | 'address_changed'
  | 'invalid_input'
  | 'not_found'
  | 'internal';

export const ERROR_KINDS: readonly ErrorKind[] = [
  'auth',
  'unreachable',
  'timeout',
  'protocol',
  'router',
  'store',
  'credentials',
  'address_changed',
  'invalid_input',
  'not_found',
  'internal',
];

export interface ApiError {
  kind: ErrorKind;
  message: string;
}

export interface StoreInfo {
  backend: 'sqlite' | 'mysql';
  location: string;
  credentials: {
    backend: 'keyring' | 'file';
    warning: string | null;
  };
}

/**
 * Where a router stands, judged in Rust (fleet-store `HealthThresholds::state`)
 * against the poll interval set; the overview's counts use the same rule.
 */
export type RouterState = 'online' | 'degraded' | 'offline' | 'never-seen';

export interface Device {
  id: string;
  state: RouterState;
  host: string;
  port: number;
  username: string;
  identity: string | null;
  board: string | null;
  version: string | null;
  /** Milliseconds since the Unix epoch. */
  lastCheckinAt: number | null;
  cpuLoad: number | null;
  lastError: string | null;
  /** Labels such as `simulated` (demo routers). */
  tags: string[];
  siteId: string | null;
}

export interface NewDevice {
  host: string;
  port: number;
  username: string;
  password: string;
}

export interface Checkin {
  deviceId: string;
  /** Milliseconds since the Unix epoch. */
  checkedInAt: number;
  cpuLoad: number;
  cpuCount: number;
  freeMemory: number;
  totalMemory: number;
  freeHdd: number;
  totalHdd: number;
  uptimeSecs: number;
  version: string;
  boardName: string;
  identity: string;
  rxBytes: number;
  txBytes: number;
}

const FALLBACK_MESSAGE = 'Something went wrong inside Fleetdeck. Please try again.';

function isErrorKind(value: unknown): value is ErrorKind {
  return typeof value === 'string' && (ERROR_KINDS as readonly string[]).includes(value);
}

/**
 * Turn anything a rejected invoke may produce into `{ kind, message }`.
 * The Rust side rejects with that shape already; strings, Error objects and
 * odd values (null, numbers, objects without a message) are mapped to
 * `internal` so the UI always has a sentence to show.
 */
export function normalizeError(err: unknown): ApiError {
  if (err !== null && typeof err === 'object') {
    const obj = err as Record<string, unknown>;
    const message =
      typeof obj.message === 'string' && obj.message.trim() !== '' ? obj.message : null;
    if (isErrorKind(obj.kind)) {
      return { kind: obj.kind, message: message ?? FALLBACK_MESSAGE };
    }
    if (message !== null) {
      return { kind: 'internal', message };
    }
    return { kind: 'internal', message: FALLBACK_MESSAGE };
  }
  if (typeof err === 'string' && err.trim() !== '') {
    return { kind: 'internal', message: err };
  }
  return { kind: 'internal', message: FALLBACK_MESSAGE };
}

export type Invoke = <T>(cmd: string, args?: Record<string, unknown>) => Promise<T>;

let invokeImpl: Invoke = tauriInvoke;

/** Test hook: replace the transport (pass nothing to restore Tauri's invoke). */
export function setInvoke(fn?: Invoke): void {
  invokeImpl = fn ?? tauriInvoke;
}

const NOT_IN_APP: ApiError = {
  kind: 'internal',
  message:
    'This window is not connected to the Fleetdeck backend. Open Fleetdeck from the desktop app, not a web browser.',
};

function insideTauri(): boolean {
  return typeof window !== 'undefined' && '__TAURI_INTERNALS__' in window;
}

async function call<T>(cmd: string, args?: Record<string, unknown>): Promise<T> {
  if (invokeImpl === tauriInvoke && !insideTauri()) {
    throw NOT_IN_APP;
  }
  try {
    return await invokeImpl<T>(cmd, args);
  } catch (err) {
    throw normalizeError(err);
  }
}

export function storeInfo(): Promise<StoreInfo> {
  return call<StoreInfo>('store_info');
}

/** Every router with its state judged against polls every `intervalSecs`. */
export function listDevices(intervalSecs: number): Promise<Device[]> {
  return call<Device[]>('list_devices', { intervalSecs });
}

export function addDevice(input: NewDevice): Promise<Device> {
  return call<Device>('add_device', { input });
}

export function pollDevice(deviceId: string): Promise<Checkin> {
  return call<Checkin>('poll_device', { deviceId });
}

/** Where this laptop's password for a router stands. */
export type CredentialStatus =
  | { state: 'stored' }
  | { state: 'missing' }
  /** Kept for `enteredFor`; a sync or an edit moved the router to `now`. */
  | { state: 'addressChanged'; enteredFor: string; now: string };

export function credentialStatus(deviceId: string): Promise<CredentialStatus> {
  return call<CredentialStatus>('credential_status', { deviceId });
}

/** Confirms a moved router's new address: its password is sent there from now on. */
export function confirmRouterAddress(deviceId: string): Promise<void> {
  return call<void>('confirm_router_address', { deviceId });
}

export type Theme = 'light' | 'dark';

/** A router's CPU, memory and traffic charts over one window. */
export interface DeviceCharts {
  from: number;
  to: number;
  /** `raw` check-ins, or `hourly` averages for long windows. */
  resolution: 'raw' | 'hourly';
  bucketMs: number;
  points: number;
  cpuSvg: string;
  memorySvg: string;
  trafficSvg: string;
}

export function deviceCharts(deviceId: string, windowSecs: number, theme: Theme): Promise<DeviceCharts> {
  return call<DeviceCharts>('device_charts', { deviceId, windowSecs, theme });
}

export interface RouterInterface {
  name: string;
  kind: string;
  running: boolean;
  disabled: boolean;
}

export function listInterfaces(deviceId: string): Promise<RouterInterface[]> {
  return call<RouterInterface[]>('list_interfaces', { deviceId });
}

export type MonitorEvent =
  | { event: 'sample'; at: number; rxBps: number; txBps: number; rxPps: number; txPps: number }
  | { event: 'stopped'; error: string | null };

type MonitorChannelFactory = (onEvent: (e: MonitorEvent) => void) => unknown;

let monitorChannel: MonitorChannelFactory = (onEvent) => {
  const ch = new Channel<MonitorEvent>();
  ch.onmessage = onEvent;
  return ch;
};

/** Test hook: how the live monitor's event channel is made. */
export function setMonitorChannelFactory(f: MonitorChannelFactory): void {
  monitorChannel = f;
}

/** Starts the live traffic monitor; resolves to its id for stopMonitor. */
export function startMonitor(
  deviceId: string,
  iface: string,
  onEvent: (e: MonitorEvent) => void,
): Promise<number> {
  return call<number>('start_monitor', { deviceId, interface: iface, onEvent: monitorChannel(onEvent) });
}

export function stopMonitor(id: number): Promise<void> {
  return call<void>('stop_monitor', { id });
}

export interface Site {
  id: string;
  name: string;
}

export function listSites(): Promise<Site[]> {
  return call<Site[]>('list_sites');
}

export interface ImportReport {
  rows: number;
  added: number;
  alreadyKnown: number;
  sitesAdded: number;
  passwordStored: boolean;
}

export function importInventory(text: string, username: string, password: string): Promise<ImportReport> {
  return call<ImportReport>('import_inventory', { request: { text, username, password } });
}

export interface PollingStatus {
  enabled: boolean;
  intervalSecs: number;
  routers: number;
  withoutPassword: number;
  /** Moved by a sync or an edit since their password was entered: not polled until confirmed. */
  addressChanged: number;
  online: number;
  degraded: number;
  offline: number;
  pollsOk: number;
  pollsFailed: number;
  rowsPending: number;
}

export function pollingStatus(): Promise<PollingStatus> {
  return call<PollingStatus>('polling_status');
}

export interface Count<K> {
  key: K;
  devices: number;
}

export interface DeviceMetric {
  deviceId: string;
  name: string;
  value: number;
  checkedInAt: number | null;
}

export interface FleetOverview {
  /** When it was read, ms since the epoch. */
  at: number;
  summary: { total: number; online: number; degraded: number; offline: number; neverSeen: number };
  versions: Count<string>[];
  cpu: Count<number>[];
  topCpu: DeviceMetric[];
  pressure: {
    memoryHigh: number;
    storageHigh: number;
    thresholdPct: number;
    topMemory: DeviceMetric[];
    topStorage: DeviceMetric[];
  };
  checkinsPerHour: { hour: number; checkins: number; avgCpu: number }[];
}

export type ChartName = 'states' | 'versions' | 'cpu' | 'checkins';

export interface Overview {
  overview: FleetOverview;
  charts: Record<ChartName, string>;
}

export interface DemoStatus {
  running: boolean;
  routers: number;
  site: string;
  tag: string;
}

export function fleetOverview(theme: Theme, intervalSecs: number): Promise<Overview> {
  return call<Overview>('fleet_overview', { theme, intervalSecs });
}

export function overviewCsv(chart: ChartName, intervalSecs: number): Promise<string> {
  return call<string>('overview_csv', { chart, intervalSecs });
}

/** Saves an export into the downloads folder; resolves to its path. */
export function saveExport(fileName: string, contents: Uint8Array): Promise<string> {
  return call<string>('save_export', { fileName, contents: Array.from(contents) });
}

export function demoStatus(): Promise<DemoStatus> {
  return call<DemoStatus>('demo_status');
}

export function startDemo(routers: number): Promise<DemoStatus> {
  return call<DemoStatus>('start_demo', { routers });
}

export function stopDemo(): Promise<DemoStatus> {
  return call<DemoStatus>('stop_demo');
}

export interface Settings {
  theme: Theme;
  pollIntervalSecs: number;
  /** Poll every router with a stored password in the background. */
  backgroundPolling: boolean;
  pushConcurrency: number;
  codepage: string;
}

export const DEFAULT_SETTINGS: Settings = {
  theme: 'light',
  pollIntervalSecs: 60,
  backgroundPolling: true,
  pushConcurrency: 32,
  codepage: 'windows-1252',
};

export function getSettings(): Promise<Settings> {
  return call<Settings>('get_settings');
}

export function saveSettings(settings: Settings): Promise<Settings> {
  return call<Settings>('save_settings', { settings });
}

// ---- provisioning and pushes ----------------------------------------------

export interface Found {
  identity: string;
  address: string | null;
  version: string | null;
  board: string | null;
  macs: string[];
  uptimeSecs: number | null;
  hint: string | null;
}

export interface ProbeHit {
  address: string;
  port: number;
}

export interface Discovered {
  found: Found[];
  probed: ProbeHit[];
}

export interface TemplateError {
  line: number;
  column: number;
  message: string;
}

export interface Parameter {
  name: string;
  type: string;
  /** Filled from the router or its site at push time. */
  automatic: boolean;
}

export interface TemplateCheck {
  parameters: Parameter[];
  errors: TemplateError[];
}

export type Outcome =
  | { outcome: 'added'; id: string }
  | { outcome: 'changed'; items: number; properties: string[] }
  | { outcome: 'unchanged' }
  | { outcome: 'removed'; items: number }
  | { outcome: 'ran' }
  | { outcome: 'wouldChange'; properties: string[] }
  | { outcome: 'wouldAdd' }
  | { outcome: 'wouldRemove'; items: number }
  | { outcome: 'wouldRun' }
  | { outcome: 'imported'; output: string }
  | { outcome: 'wouldImport'; checked: boolean; output: string }
  | { outcome: 'failed'; message: string };

export interface StepReport {
  line: number;
  outcome: Outcome;
}

export interface Preview {
  rendered: string;
  plan: { steps: { line: number; action: Record<string, unknown> }[] };
  steps: StepReport[];
  changes: number;
  before: string;
  after: string;
  diff: string;
  notes: string[];
}

export interface PreviewResult {
  errors: TemplateError[];
  preview: Preview | null;
}

export interface PushReport {
  pushId: string;
  status: string;
  steps: StepReport[];
  backup: string | null;
  safetyNet: string | null;
  message: string;
}

export interface RouterResult {
  deviceId: string;
  address: string;
  wave: number;
  status: string;
  message: string;
  report: PushReport | null;
}

export interface BulkReport {
  batchId: string;
  routers: number;
  succeeded: number;
  failed: number;
  skipped: number;
  alreadyDone: number;
  seconds: number;
  stopped: string | null;
  results: RouterResult[];
}

export type PushEvent =
  | { event: 'started'; batch: string | null; routers: number }
  | { event: 'step'; deviceId: string; step: StepReport; done: number }
  | { event: 'router'; result: RouterResult }
  | { event: 'finished'; report: BulkReport };

export interface PushRequest {
  deviceIds: string[];
  template: string;
  values: Record<string, string>;
  import: boolean;
  waves: string;
  concurrency: number;
  stopAfter: number;
  confirmWithinMinutes: number;
  manualConfirm: boolean;
  dryRun: boolean;
}

type ChannelFactory = (onEvent: (e: PushEvent) => void) => unknown;

let channelFactory: ChannelFactory = (onEvent) => {
  const ch = new Channel<PushEvent>();
  ch.onmessage = onEvent;
  return ch;
};

/** Test hook: how the event channel of a push is made. */
export function setChannelFactory(f?: ChannelFactory): void {
  channelFactory =
    f ??
    ((onEvent) => {
      const ch = new Channel<PushEvent>();
      ch.onmessage = onEvent;
      return ch;
    });
}

export function discoverRouters(listenSecs: number, probe: string | null): Promise<Discovered> {
  return call<Discovered>('discover_routers', { listenSecs, probe });
}

export function checkTemplate(text: string): Promise<TemplateCheck> {
  return call<TemplateCheck>('check_template', { text });
}

export function previewPush(
  deviceId: string,
  template: string,
  values: Record<string, string>,
  importScript: boolean,
): Promise<PreviewResult> {
  return call<PreviewResult>('preview_push', { deviceId, template, values, import: importScript });
}

/** Starts a push; `onEvent` sees every step and router as it finishes. */
export function pushTemplate(request: PushRequest, onEvent: (e: PushEvent) => void): Promise<BulkReport> {
  return call<BulkReport>('push_template', { request, onEvent: channelFactory(onEvent) });
}

export function controlPush(action: 'pause' | 'resume' | 'cancel'): Promise<boolean> {
  return call<boolean>('control_push', { action });
}

export function confirmPush(deviceId: string, scheduler: string): Promise<boolean> {
  return call<boolean>('confirm_push', { deviceId, scheduler });
}

export interface AuditEvent {
  id: string;
  at: number;
  deviceId: string | null;
  actor: string;
  action: string;
  detail: string;
}

export interface PushRecord {
  id: string;
  deviceId: string;
  templateId: string | null;
  startedAt: number;
  finishedAt: number | null;
  status: string;
  summary: string;
  updatedAt: number;
  batchId: string | null;
}

export interface Backup {
  at: number;
  file: string;
  export: string;
}

export interface DeviceHistory {
  pushes: PushRecord[];
  events: AuditEvent[];
  /** Alerts and health changes, newest first. */
  alerts: AuditEvent[];
  backups: Backup[];
}

export function deviceHistory(deviceId: string): Promise<DeviceHistory> {
  return call<DeviceHistory>('device_history', { deviceId });
}

export interface StoredTemplate {
  id: string;
  name: string;
  body: string;
  updatedAt: number;
}

export interface TestRender {
  rendered: string | null;
  errors: TemplateError[];
}

export function listTemplates(): Promise<StoredTemplate[]> {
  return call<StoredTemplate[]>('list_templates');
}

/** Saves a template (`id` empty: a new one). */
export function saveTemplate(id: string, name: string, body: string): Promise<StoredTemplate> {
  return call<StoredTemplate>('save_template', { id, name, body });
}

export function testRender(body: string, values: Record<string, string>): Promise<TestRender> {
  return call<TestRender>('test_render', { body, values });
}

export interface SyncReport {
  entriesDelivered: number;
  recordsDelivered: number;
  alreadyThere: number;
  sites: number;
  templates: number;
  devices: number;
  latest: number;
  rollups: number;
  checkins: number;
  auditEvents: number;
  pushes: number;
}

export interface SyncStatus {
  backend: 'sqlite' | 'mysql';
  location: string;
  outboxEntries: number;
  outboxRecords: number;
  sharedUrl: string | null;
  lastSync: { at: number; report: SyncReport } | null;
}

export function syncStatus(): Promise<SyncStatus> {
  return call<SyncStatus>('sync_status');
}

/** Connects once, then saves the address (and the password, to the keyring). */
export function setSharedStore(url: string, password: string): Promise<{ backend: string; devices: number }> {
  return call<{ backend: string; devices: number }>('set_shared_store', { url, password });
}

export function syncNow(): Promise<SyncReport> {
  return call<SyncReport>('sync_now');
}
