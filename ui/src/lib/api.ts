// The single place the UI talks to the Rust side. Every command name and
// argument key here is part of the IPC contract (src-tauri's
// #[tauri::command] handlers); the types come from Rust, generated into
// ./bindings by `cargo test --test bindings` (see src-tauri/bindings.rs):
// never write a type of the contract by hand here.
import { Channel, invoke as tauriInvoke } from '@tauri-apps/api/core';
import type { Action } from './bindings/Action';
import type { AddDevice } from './bindings/AddDevice';
import type { AuditAction } from './bindings/AuditAction';
import type { AuditEvent } from './bindings/AuditEvent';
import type { Backup } from './bindings/Backup';
import type { BackupReport } from './bindings/BackupReport';
import type { BackupSchedule } from './bindings/BackupSchedule';
import type { ConfigDiff } from './bindings/ConfigDiff';
import type { ConfigSearchHit } from './bindings/ConfigSearchHit';
import type { ConfigText } from './bindings/ConfigText';
import type { ConfigVersion } from './bindings/ConfigVersion';
import type { RouterBackupStatus } from './bindings/RouterBackupStatus';
import type { RouterCompliance } from './bindings/RouterCompliance';
import type { BulkReport } from './bindings/BulkReport';
import type { Checkin } from './bindings/Checkin';
import type { CommandError } from './bindings/CommandError';
import type { ComplianceReport } from './bindings/ComplianceReport';
import type { ComplianceRule } from './bindings/ComplianceRule';
import type { Confirmation } from './bindings/Confirmation';
import type { Count } from './bindings/Count';
import type { CredentialBackend } from './bindings/CredentialBackend';
import type { CredentialInfo } from './bindings/CredentialInfo';
import type { CredentialStatus } from './bindings/CredentialStatus';
import type { DemoStatus } from './bindings/DemoStatus';
import type { DeviceCharts } from './bindings/DeviceCharts';
import type { DeviceHistory } from './bindings/DeviceHistory';
import type { DeviceMetric } from './bindings/DeviceMetric';
import type { Discovered } from './bindings/Discovered';
import type { ErrorKind } from './bindings/ErrorKind';
import type { FleetHour } from './bindings/FleetHour';
import type { FleetOverview } from './bindings/FleetOverview';
import type { FleetSummary } from './bindings/FleetSummary';
import type { Found } from './bindings/Found';
import type { ImportReport } from './bindings/ImportReport';
import type { InterruptedPush } from './bindings/InterruptedPush';
import type { ImportRequest } from './bindings/ImportRequest';
import type { Interface } from './bindings/Interface';
import type { LastSync } from './bindings/LastSync';
import type { MonitorEvent } from './bindings/MonitorEvent';
import type { Named } from './bindings/Named';
import type { Outcome } from './bindings/Outcome';
import type { Overview } from './bindings/Overview';
import type { OverviewCharts } from './bindings/OverviewCharts';
import type { Parameter } from './bindings/Parameter';
import type { Plan } from './bindings/Plan';
import type { PollProgress } from './bindings/PollProgress';
import type { PollSweep } from './bindings/PollSweep';
import type { PollingStatus } from './bindings/PollingStatus';
import type { Pressure } from './bindings/Pressure';
import type { Preview } from './bindings/Preview';
import type { ProbeHit } from './bindings/ProbeHit';
import type { PushAction } from './bindings/PushAction';
import type { PushEvent } from './bindings/PushEvent';
import type { PushRecord } from './bindings/PushRecord';
import type { PushReport } from './bindings/PushReport';
import type { PushRequest } from './bindings/PushRequest';
import type { PushState } from './bindings/PushState';
import type { PushStatus } from './bindings/PushStatus';
import type { Refusal } from './bindings/Refusal';
import type { Resolution } from './bindings/Resolution';
import type { RestoreCheck } from './bindings/RestoreCheck';
import type { RestorePreview } from './bindings/RestorePreview';
import type { RestoreReport } from './bindings/RestoreReport';
import type { Router } from './bindings/Router';
import type { RouterResult } from './bindings/RouterResult';
import type { RouterState } from './bindings/RouterState';
import type { RouterStatus } from './bindings/RouterStatus';
import type { RuleCheck } from './bindings/RuleCheck';
import type { RuleInput } from './bindings/RuleInput';
import type { RuleOutcome } from './bindings/RuleOutcome';
import type { RuleScope } from './bindings/RuleScope';
import type { RuleSummary } from './bindings/RuleSummary';
import type { ScheduleOverride } from './bindings/ScheduleOverride';
import type { Settings } from './bindings/Settings';
import type { SharedTest } from './bindings/SharedTest';
import type { SiteName } from './bindings/SiteName';
import type { Step } from './bindings/Step';
import type { StepReport } from './bindings/StepReport';
import type { StoreInfo } from './bindings/StoreInfo';
import type { SyncReport } from './bindings/SyncReport';
import type { SyncStatus } from './bindings/SyncStatus';
import type { Template } from './bindings/Template';
import type { TemplateCheck } from './bindings/TemplateCheck';
import type { TemplateError } from './bindings/TemplateError';
import type { TemplatePreview } from './bindings/TemplatePreview';
import type { TestRender } from './bindings/TestRender';
import type { Theme } from './bindings/Theme';
import type { Transport } from './bindings/Transport';

export type {
  Confirmation,
  InterruptedPush,
  Action,
  AddDevice,
  AuditAction,
  AuditEvent,
  Backup,
  BackupReport,
  BackupSchedule,
  BulkReport,
  ConfigDiff,
  ConfigSearchHit,
  ConfigText,
  ConfigVersion,
  RouterBackupStatus,
  RouterCompliance,
  Checkin,
  CommandError,
  ComplianceReport,
  ComplianceRule,
  Count,
  CredentialBackend,
  CredentialInfo,
  CredentialStatus,
  DemoStatus,
  DeviceCharts,
  DeviceHistory,
  DeviceMetric,
  Discovered,
  ErrorKind,
  FleetHour,
  FleetOverview,
  FleetSummary,
  Found,
  ImportReport,
  ImportRequest,
  Interface,
  LastSync,
  MonitorEvent,
  Named,
  Outcome,
  Overview,
  OverviewCharts,
  Parameter,
  Plan,
  PollProgress,
  PollSweep,
  PollingStatus,
  Pressure,
  Preview,
  ProbeHit,
  PushAction,
  PushEvent,
  PushRecord,
  PushReport,
  PushRequest,
  PushState,
  PushStatus,
  Refusal,
  Resolution,
  RestoreCheck,
  RestorePreview,
  RestoreReport,
  Router,
  RouterResult,
  RouterState,
  RouterStatus,
  RuleCheck,
  RuleInput,
  RuleOutcome,
  RuleScope,
  RuleSummary,
  ScheduleOverride,
  Settings,
  SharedTest,
  SiteName,
  Step,
  StepReport,
  StoreInfo,
  SyncReport,
  SyncStatus,
  Template,
  TemplateCheck,
  TemplateError,
  TemplatePreview,
  TestRender,
  Theme,
  Transport,
};

/** The names the UI's code uses for some generated types. */
export type ApiError = CommandError;
/** A router of the list, with the state judged in Rust. */
export type Device = Router;
export type NewDevice = AddDevice;
export type RouterInterface = Interface;
export type Site = SiteName;
export type PreviewResult = TemplatePreview;
export type StoredTemplate = Template;
export type ChartName = keyof OverviewCharts;

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

/** Makes the channel a command streams its events on (push, poll, monitor). */
export type ChannelFactory = <T>(onEvent: (e: T) => void) => unknown;

const tauriChannel: ChannelFactory = <T>(onEvent: (e: T) => void) => {
  const ch = new Channel<T>();
  ch.onmessage = onEvent;
  return ch;
};

let channel: ChannelFactory = tauriChannel;

/** Test hook: how event channels are made (pass nothing to restore Tauri's). */
export function setChannelFactory(f?: ChannelFactory): void {
  channel = f ?? tauriChannel;
}

export function storeInfo(): Promise<StoreInfo> {
  return call<StoreInfo>('store_info');
}

/** The text for a support request, with every secret taken out. */
export function diagnostics(): Promise<string> {
  return call<string>('diagnostics');
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

/** The router's last check-in in the store (null before the first). */
export function latestCheckin(deviceId: string): Promise<Checkin | null> {
  return call<Checkin | null>('latest_checkin', { deviceId });
}

/** "Poll checked": polls `deviceIds` a few at a time; `onProgress` sees each as it answers. */
export function pollDevices(deviceIds: string[], onProgress: (p: PollProgress) => void): Promise<PollSweep> {
  return call<PollSweep>('poll_devices', { deviceIds, onProgress: channel(onProgress) });
}

export function credentialStatus(deviceId: string): Promise<CredentialStatus> {
  return call<CredentialStatus>('credential_status', { deviceId });
}

/** Confirms a moved router's new address: its password is sent there from now on. */
export function confirmRouterAddress(deviceId: string): Promise<void> {
  return call<void>('confirm_router_address', { deviceId });
}

export function deviceCharts(deviceId: string, windowSecs: number, theme: Theme): Promise<DeviceCharts> {
  return call<DeviceCharts>('device_charts', { deviceId, windowSecs, theme });
}

export function listInterfaces(deviceId: string): Promise<RouterInterface[]> {
  return call<RouterInterface[]>('list_interfaces', { deviceId });
}

/** Starts the live traffic monitor; resolves to its id for stopMonitor. */
export function startMonitor(
  deviceId: string,
  iface: string,
  onEvent: (e: MonitorEvent) => void,
): Promise<number> {
  return call<number>('start_monitor', { deviceId, interface: iface, onEvent: channel(onEvent) });
}

export function stopMonitor(id: number): Promise<void> {
  return call<void>('stop_monitor', { id });
}

export function listSites(): Promise<Site[]> {
  return call<Site[]>('list_sites');
}

export function importInventory(text: string, username: string, password: string): Promise<ImportReport> {
  return call<ImportReport>('import_inventory', { request: { text, username, password } });
}

export function pollingStatus(): Promise<PollingStatus> {
  return call<PollingStatus>('polling_status');
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

export const DEFAULT_SETTINGS: Settings = {
  theme: 'light',
  pollIntervalSecs: 60,
  backgroundPolling: true,
  pushConcurrency: 32,
  codepage: 'windows-1252',
  backupSchedule: { everyHours: 24, overrides: [] },
  sensitiveBackups: false,
};

export function getSettings(): Promise<Settings> {
  return call<Settings>('get_settings');
}

export function saveSettings(settings: Settings): Promise<Settings> {
  return call<Settings>('save_settings', { settings });
}

// ---- provisioning and pushes ----------------------------------------------

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
  return call<BulkReport>('push_template', { request, onEvent: channel(onEvent) });
}

/** Bulk pushes cut short (the app closed or killed) that can be resumed. */
export function interruptedPushes(): Promise<InterruptedPush[]> {
  return call<InterruptedPush[]>('interrupted_pushes');
}

/** Resumes an interrupted bulk push with the push it recorded. */
export function resumePush(batchId: string, onEvent: (e: PushEvent) => void): Promise<BulkReport> {
  return call<BulkReport>('resume_push', { batchId, onEvent: channel(onEvent) });
}

/** Pauses, resumes or cancels push `job` (named by its `started` event). */
export function controlPush(job: string, action: PushAction): Promise<boolean> {
  return call<boolean>('control_push', { job, action });
}

/** Confirms a push awaiting confirmation, or learns that its safety net fired. */
export function confirmPush(deviceId: string, scheduler: string): Promise<Confirmation> {
  return call<Confirmation>('confirm_push', { deviceId, scheduler });
}

export function deviceHistory(deviceId: string): Promise<DeviceHistory> {
  return call<DeviceHistory>('device_history', { deviceId });
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

/** Backs up the routers named, or every router with `null`. */
export function backupRouters(deviceIds: string[] | null): Promise<BackupReport> {
  return call<BackupReport>('backup_routers', { deviceIds });
}

export function backupStatus(): Promise<RouterBackupStatus[]> {
  return call<RouterBackupStatus[]>('backup_status');
}

/** A router's configuration versions, newest first. */
export function configLog(deviceId: string): Promise<ConfigVersion[]> {
  return call<ConfigVersion[]>('config_log', { deviceId });
}

export function configShow(deviceId: string, versionId: string): Promise<ConfigText> {
  return call<ConfigText>('config_show', { deviceId, versionId });
}

/** `from` against `to`, or against the router's live export with `to` null. */
export function configDiff(deviceId: string, from: string, to: string | null): Promise<ConfigDiff> {
  return call<ConfigDiff>('config_diff', { deviceId, from, to });
}

/** What restoring `versionId` would change on the router now; changes nothing. */
export function restorePreview(deviceId: string, versionId: string): Promise<RestorePreview> {
  return call<RestorePreview>('restore_preview', { deviceId, versionId });
}

/** Puts `versionId` back on the router through the push engine's safety net, then compares. */
export function restoreRouter(deviceId: string, versionId: string): Promise<RestoreReport> {
  return call<RestoreReport>('restore_router', { deviceId, versionId });
}

/** Lines of every router's newest configuration holding `text`. */
export function configSearch(text: string): Promise<ConfigSearchHit[]> {
  return call<ConfigSearchHit[]>('config_search', { text });
}

/** Every compliance rule, switched off ones too. */
export function complianceRules(): Promise<ComplianceRule[]> {
  return call<ComplianceRule[]>('compliance_rules');
}

/** Adds a rule (`id` null), or changes the one `id` names: rules are switched off, never deleted. */
export function saveComplianceRule(rule: RuleInput): Promise<ComplianceRule> {
  return call<ComplianceRule>('save_compliance_rule', { rule });
}

/** Every router's newest stored version against the rules that are on; reads the store only. */
export function configCheck(): Promise<ComplianceReport> {
  return call<ComplianceReport>('config_check');
}
