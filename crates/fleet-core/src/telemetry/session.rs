//! A router's session for telemetry: connect when there is none (gated,
//! with backoff, pinning a certificate on first use), read one check-in
//! under one deadline, and hand it to the rules.

use std::time::{Duration, Instant};

use fleet_store::Checkin;
use routeros::Client;

use super::{bump, event, jitter, rules, rules::Previous, Ctx, Msg, RouterState, Target};
use crate::{poll, FleetError};

/// Connects if needed (gated, with backoff) and reads one check-in.
pub(super) async fn poll_router(
    ctx: &Ctx,
    target: &Target,
    state: &mut RouterState,
) -> Result<Checkin, String> {
    if state.client.is_none() {
        let now = Instant::now();
        if now < state.next_attempt {
            return Err(format!(
                "waiting {} s before reconnecting; last error: {}",
                (state.next_attempt - now).as_secs(),
                state.last_error.as_deref().unwrap_or("none")
            ));
        }
        let connected = {
            let _permit = ctx.connect_gate.acquire().await;
            match state.pinned {
                Some(fp) => {
                    let mut opts = target.connect.clone();
                    opts.tls = routeros::TlsMode::Pinned(fp);
                    Client::connect(&opts).await
                }
                None => Client::connect(&target.connect).await,
            }
        };
        match connected {
            Ok(c) => {
                bump(&ctx.counters.connects);
                if state.pinned.is_none() {
                    if let Some(fp) = crate::reach::to_pin(&target.connect.tls, &c) {
                        state.pinned = Some(fp);
                        let _ = ctx
                            .tx
                            .send(Msg::Pin {
                                device_id: target.device_id.clone(),
                                fingerprint: fp.to_string(),
                            })
                            .await;
                        event(
                            ctx,
                            target,
                            fleet_store::AuditAction::TlsPinned,
                            format!("{}: certificate {fp} pinned on first use", target.addr()),
                        )
                        .await;
                    }
                }
                state.client = Some(c);
            }
            Err(e) => return Err(fail(ctx, state, FleetError::from(e))),
        }
    }
    let client = state.client.as_ref().expect("connected above");
    // One deadline for the whole poll, on top of each command's.
    let deadline = target.connect.command_timeout + Duration::from_secs(1);
    let reading = match tokio::time::timeout(deadline, poll::read(client, &target.device_id)).await
    {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => return Err(fail(ctx, state, e)),
        Err(_) => {
            return Err(fail(
                ctx,
                state,
                FleetError::UnexpectedReply(format!(
                    "the router did not finish a poll within {} s",
                    deadline.as_secs()
                )),
            ))
        }
    };
    let mut checkin = reading.checkin;
    rules::apply_rates(&mut checkin, &reading.interfaces, state.previous.as_ref());
    let raised = rules::alerts(
        &ctx.cfg.alerts,
        &mut state.alert,
        state.previous.as_ref(),
        &checkin,
        &target.addr(),
    );
    for (action, detail) in raised {
        event(ctx, target, action, detail).await;
    }
    state.previous = Some(Previous {
        at: checkin.checked_in_at,
        uptime_secs: checkin.uptime_secs,
        counters: reading
            .interfaces
            .iter()
            .map(|i| (i.name.clone(), (i.rx_bytes, i.tx_bytes)))
            .collect(),
    });
    Ok(checkin)
}

/// Drops the session and schedules the next attempt with backoff.
pub(super) fn fail(ctx: &Ctx, state: &mut RouterState, e: FleetError) -> String {
    state.client = None;
    state.failures += 1;
    let wait = rules::backoff(state.failures, ctx.cfg.backoff_min, ctx.cfg.backoff_max);
    state.next_attempt = Instant::now() + jitter(wait);
    e.to_string()
}
