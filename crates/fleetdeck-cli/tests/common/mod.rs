//! Helpers the CLI test files share.
#![allow(dead_code)]

use std::process::{Command, Output};

/// The CLI binary with `args` and `envs`, credentials in a file.
pub async fn cli(args: Vec<String>, envs: Vec<(&'static str, String)>) -> Output {
    tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_fleetdeck-cli"))
            .args(args)
            .envs(envs)
            .env("FLEETDECK_CREDENTIALS", "file")
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

pub fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

/// `push` of `tpl` with `values` to `targets` (password in `RPW`) into the
/// store at `url`, JSON lines out, then `extra`.
pub fn push_args(
    tpl: &std::path::Path,
    values: &std::path::Path,
    targets: &str,
    url: &str,
    extra: &[&str],
) -> Vec<String> {
    let mut a: Vec<String> = [
        "push",
        "--template",
        tpl.to_str().unwrap(),
        "--values",
        values.to_str().unwrap(),
        "--targets",
        targets,
        "--password-env",
        "RPW",
        "--store",
        url,
        "--json",
    ]
    .iter()
    .map(|x| x.to_string())
    .collect();
    a.extend(extra.iter().map(|x| x.to_string()));
    a
}
