//! Every real export of the corpus lives in the simulator: a router seeded
//! from it exports it back. Compared after normalisation: both texts are
//! read as RouterOS reads them (continuations joined, comments and header
//! dropped) and printed one command per line with its full path, so
//! wrapping, quoting style and terse-or-sectioned layout do not count, and
//! every command, selector, property, value and their order do.

use routeros_proto::script::export_commands;
use routeros_sim::{Device, ExportOptions};

/// The RouterOS version an export's header (or, without one, its file
/// name) names.
fn version_of(name: &str, text: &str) -> String {
    text.lines()
        .find_map(|l| {
            l.split_once("by RouterOS ")
                .map(|(_, v)| v.trim().to_owned())
        })
        .or_else(|| {
            name.split('-')
                .nth(1)
                .map(|v| v.trim_start_matches('v').to_owned())
        })
        .unwrap_or_else(|| "7.16".into())
}

fn canonical(text: &[u8]) -> Result<Vec<String>, String> {
    export_commands(text).map_err(|e| e.to_string())
}

/// Whether the export was taken with `terse`: its commands carry paths.
fn is_terse(text: &str) -> bool {
    text.lines()
        .filter(|l| l.starts_with('/'))
        .any(|l| l.contains(" add ") || l.contains(" set "))
}

#[test]
fn every_corpus_export_round_trips_through_the_simulator() {
    let mut seen = 0;
    let mut round_tripped = Vec::new();
    let mut refused = Vec::new();
    let mut failures = Vec::new();
    for (name, bytes) in corpus_check::corpus_exports() {
        seen += 1;
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let want = match canonical(&bytes) {
            Ok(w) => w,
            Err(e) => {
                refused.push(format!("{name}: {e}"));
                continue;
            }
        };
        let device = Device::new(0, &version_of(&name, &text));
        if let Err(e) = device.seed(&bytes) {
            refused.push(format!("{name}: seed: {e}"));
            continue;
        }
        let options = ExportOptions {
            terse: is_terse(&text),
            verbose: name.contains("verbose"),
            sensitive: Some(true),
        };
        let exported = device.export_with(options);
        let got = canonical(exported.as_bytes()).expect("the simulator's export parses");
        if got == want {
            round_tripped.push(name);
        } else {
            let at = got
                .iter()
                .zip(&want)
                .position(|(g, w)| g != w)
                .unwrap_or(got.len().min(want.len()));
            failures.push(format!(
                "{name}: {} commands exported, {} in the original; first difference at command {at}:\n  original: {}\n  exported: {}",
                got.len(),
                want.len(),
                want.get(at).map_or("(none)", String::as_str),
                got.get(at).map_or("(none)", String::as_str),
            ));
        }
    }
    eprintln!(
        "{} of {seen} corpus exports round-trip; refused: {refused:#?}",
        round_tripped.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Only the two files that are not exports (a `print` output, a
    // corrupt upload) are refused, by the parser, with line and column.
    assert_eq!(refused.len(), 2, "{refused:#?}");
    assert_eq!(round_tripped.len(), seen - 2);
}
