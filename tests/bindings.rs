//! The UI's IPC types are generated from Rust (`fleetdeck_app::bindings`):
//! the committed files in `ui/src/lib/bindings/` must be exactly what the
//! Rust types generate now, so a change on either side that is not
//! carried to the other fails here. `FLEETDECK_BLESS_BINDINGS=1` rewrites
//! them.

use std::{collections::BTreeMap, path::Path};

fn files(dir: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "ts") {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            out.insert(name, std::fs::read_to_string(&path).unwrap());
        }
    }
    out
}

#[test]
fn the_committed_typescript_bindings_are_what_rust_generates() {
    let committed_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("ui/src/lib/bindings");
    let generated = tempfile::tempdir().unwrap();
    fleetdeck_app::bindings::export(generated.path()).unwrap();
    let now = files(generated.path());
    assert!(
        now.len() > 30,
        "every IPC type is generated: {:?}",
        now.keys()
    );
    if std::env::var_os("FLEETDECK_BLESS_BINDINGS").is_some() {
        if committed_dir.exists() {
            std::fs::remove_dir_all(&committed_dir).unwrap();
        }
        std::fs::create_dir_all(&committed_dir).unwrap();
        for (name, text) in &now {
            std::fs::write(committed_dir.join(name), text).unwrap();
        }
    }
    let committed = files(&committed_dir);
    let stale: Vec<&String> = now
        .iter()
        .filter(|(n, t)| committed.get(*n) != Some(t))
        .map(|(n, _)| n)
        .collect();
    let extra: Vec<&String> = committed.keys().filter(|n| !now.contains_key(*n)).collect();
    assert!(
        stale.is_empty() && extra.is_empty(),
        "ui/src/lib/bindings is out of date (changed or missing: {stale:?}; no longer generated: {extra:?}); \
         run FLEETDECK_BLESS_BINDINGS=1 cargo test --test bindings and commit the result"
    );
}
