//! Where the real-world RouterOS corpus is, for the tests of this crate.
//!
//! The tests themselves are in `tests/` and run only through
//! `scripts/check-corpus.sh DIR` (they need `--features corpus`). The
//! ordinary suite uses the project's own fixtures in `tests/fixtures/rsc`.

use std::path::PathBuf;

/// `$FLEETDECK_CORPUS_DIR`, which must hold the corpus (`SOURCES.md` and
/// the `.rsc` files). A missing corpus fails the check: it never passes
/// by reading nothing.
pub fn corpus_dir() -> PathBuf {
    let dir = std::env::var_os("FLEETDECK_CORPUS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            panic!(
                "FLEETDECK_CORPUS_DIR is not set: run scripts/check-corpus.sh DIR \
                 with the routeros-exports folder"
            )
        });
    assert!(
        dir.join("SOURCES.md").is_file(),
        "no RouterOS export corpus at {} (SOURCES.md missing)",
        dir.display()
    );
    dir
}

/// The corpus's `.rsc` files, sorted by name.
pub fn corpus_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus_dir())
        .expect("readable corpus folder")
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "rsc"))
        .collect();
    files.sort();
    files
}

/// The file whose name starts with `number` and a dash (e.g. "021").
pub fn corpus_file(number: &str) -> PathBuf {
    corpus_files()
        .into_iter()
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(&format!("{number}-")))
        })
        .unwrap_or_else(|| panic!("corpus file {number}-* is missing"))
}

/// The corpus's exports (files numbered below 050; 050 on are
/// hand-written scripts), as file name and bytes, sorted by name.
pub fn corpus_exports() -> Vec<(String, Vec<u8>)> {
    corpus_files()
        .into_iter()
        .filter_map(|p| {
            let name = p.file_name()?.to_string_lossy().into_owned();
            let n: u32 = name.get(..3)?.parse().ok()?;
            (n < 50).then(|| (name, std::fs::read(&p).expect("readable corpus file")))
        })
        .collect()
}
