//! The TypeScript types of the IPC contract, generated from these Rust
//! types (ts-rs) into `ui/src/lib/bindings/`. `tests/bindings.rs` fails when
//! the committed files differ from what this generates; bless them with
//! `FLEETDECK_BLESS_BINDINGS=1 cargo test --test bindings`.

use std::path::Path;

use ts_rs::{Config, ExportError, TS};

use crate::commands::{
    dashboard::Overview, demo::DemoStatus, devices, store::StoreInfo, sync::SyncStatus,
    templates::TestRender,
};
use crate::CommandError;

/// Writes every type a command takes or returns, and each type they
/// use, into `dir`: one file per type. JSON numbers arrive as JavaScript
/// numbers, so 64-bit integers are `number`.
pub fn export(dir: &Path) -> Result<(), ExportError> {
    let cfg = Config::new().with_large_int("number").with_out_dir(dir);
    macro_rules! export {
        ($($t:ty),* $(,)?) => { $( <$t as TS>::export_all(&cfg)?; )* };
    }
    export!(
        CommandError,
        StoreInfo,
        fleet_core::routers::Router,
        fleet_core::AddDevice,
        devices::ImportRequest,
        fleet_core::ImportReport,
        devices::SiteName,
        fleet_core::Checkin,
        fleet_core::sweep::PollProgress,
        fleet_core::sweep::PollSweep,
        fleet_core::CredentialStatus,
        fleet_core::DeviceCharts,
        fleet_core::live::Interface,
        fleet_core::monitors::MonitorEvent,
        fleet_core::history::DeviceHistory,
        fleet_core::configs::BackupReport,
        fleet_core::configs::RouterBackupStatus,
        fleet_core::configs::ConfigText,
        fleet_core::configs::ConfigDiff,
        fleet_core::configs::ConfigSearchHit,
        fleet_core::restore::RestorePreview,
        fleet_core::restore::RestoreReport,
        fleet_core::compliance::ComplianceRule,
        fleet_core::compliance::RuleInput,
        fleet_core::compliance::ComplianceReport,
        fleet_core::backup_schedule::BackupSchedule,
        fleet_core::monitoring::PollingStatus,
        fleet_core::dashboard::FleetOverview,
        Overview,
        DemoStatus,
        fleet_core::settings::Settings,
        fleet_core::discover::Discovered,
        fleet_core::template_check::TemplateCheck,
        fleet_core::preview::TemplatePreview,
        fleet_core::provision::PushRequest,
        fleet_core::provision::PushEvent,
        fleet_core::interrupted::InterruptedPush,
        fleet_core::provision::PushAction,
        fleet_core::bulk::BulkReport,
        fleet_core::push::Confirmation,
        fleet_core::fleet_store::Template,
        TestRender,
        SyncStatus,
        fleet_core::shared::SharedTest,
        fleet_core::fleet_store::sync::SyncReport,
    );
    Ok(())
}
