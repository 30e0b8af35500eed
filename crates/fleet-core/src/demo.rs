//! The demo fleet: simulated routers (`routeros-sim`, in this process, on
//! loopback) enrolled under the site "Demo (simulated)" with the tag
//! `simulated`, and polled like real ones, so a newcomer sees live
//! dashboards within a minute of first launch. Everything it adds is
//! labelled simulated wherever routers appear.

use std::time::Duration;

use routeros_sim::{SimConfig, SimFleet};

use crate::{
    credentials::Sensitive,
    targets::TargetSpec,
    telemetry::{CounterSnapshot, Telemetry, TelemetryConfig},
    Fleet, FleetError,
};

/// The site demo routers belong to.
pub const DEMO_SITE: &str = "Demo (simulated)";
/// The tag every demo router carries.
pub const DEMO_TAG: &str = "simulated";
/// Demo router `i` listens on `DEMO_BASE_PORT + i` (below the ephemeral
/// range), so a restarted demo finds the routers it enrolled before
/// instead of adding new ones.
pub const DEMO_BASE_PORT: u16 = 17_700;
/// At most this many demo routers.
pub const DEMO_MAX: usize = 500;

/// A running demo fleet; [`Demo::stop`] ends polling and the simulators.
pub struct Demo {
    sim: SimFleet,
    telemetry: Telemetry,
    routers: usize,
}

/// What the demo routers hold: the project's example exports (v7 VLAN
/// switch, v6 home router, v7 core with scripts, v7 wrapped verbose).
const DEMO_EXPORTS: [&[u8]; 4] = [
    include_bytes!("../../../tests/fixtures/rsc/v7-vlan-switch.rsc"),
    include_bytes!("../../../tests/fixtures/rsc/v6-home-router-crlf.rsc"),
    include_bytes!("../../../tests/fixtures/rsc/v7-terse-scripts.rsc"),
    include_bytes!("../../../tests/fixtures/rsc/v7-verbose-wrapped.rsc"),
];

impl Demo {
    /// Starts `routers` simulated routers, enrols them and polls each every
    /// `interval`.
    pub async fn start(
        fleet: &Fleet,
        routers: usize,
        interval: Duration,
    ) -> Result<Demo, FleetError> {
        if routers == 0 || routers > DEMO_MAX {
            return Err(FleetError::InvalidInput(format!(
                "a demo fleet has 1 to {DEMO_MAX} routers"
            )));
        }
        let sim = SimFleet::start(SimConfig {
            devices: routers,
            base_port: DEMO_BASE_PORT,
            versions: ["7.16.2", "7.18.2", "6.49.13", "7.19.1", "7.16.2"]
                .map(str::to_owned)
                .to_vec(),
            // Realistic configurations (the project's own example exports),
            // so backups, diffs and pushes have something to work on.
            seeds: DEMO_EXPORTS.iter().map(|e| e.to_vec()).collect(),
            ..SimConfig::default()
        })
        .await
        .map_err(|e| {
            FleetError::InvalidInput(format!(
                "the demo fleet needs ports {DEMO_BASE_PORT}–{} on 127.0.0.1: {e}",
                DEMO_BASE_PORT as usize + routers - 1
            ))
        })?;
        // Each keeps a name of its own, as the demo always had.
        for i in 0..sim.len() {
            sim.device(i).set_identity(&format!("sim-router-{i:04}"));
        }
        let specs: Vec<TargetSpec> = sim
            .ports()
            .into_iter()
            .map(|port| TargetSpec {
                host: "127.0.0.1".into(),
                port,
                username: Some("admin".into()),
                site: Some(DEMO_SITE.into()),
                tags: vec![DEMO_TAG.into()],
                transport: None,
                fingerprint: None,
            })
            .collect();
        // The simulators' password is empty; kept like any router's so
        // polling from the app works the same.
        let targets = fleet
            .enroll(
                &specs,
                "admin",
                Some(&Sensitive::new(String::new())),
                interval,
            )
            .await?;
        for t in &targets {
            fleet.credentials().set_router(
                &t.device_id,
                &(&t.connect).into(),
                &Sensitive::new(String::new()),
            )?;
        }
        let telemetry = Telemetry::start(fleet.shared_store(), targets, TelemetryConfig::default());
        tracing::info!(routers, "demo fleet started");
        Ok(Demo {
            sim,
            telemetry,
            routers,
        })
    }

    pub fn routers(&self) -> usize {
        self.routers
    }

    /// Stops polling (every check-in taken is stored) and the simulators.
    pub async fn stop(self) -> CounterSnapshot {
        let counters = self.telemetry.stop().await;
        drop(self.sim);
        counters
    }
}
