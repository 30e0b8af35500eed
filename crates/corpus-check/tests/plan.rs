//! The hand-written bootstrap scripts of the corpus (050–063) either
//! compile to a plan or are refused naming the construct and its line.

use fleet_core::plan;

#[test]
fn corpus_bootstrap_scripts_compile_or_are_refused_clearly() {
    let mut seen = 0;
    let mut compiled = 0;
    for path in corpus_check::corpus_files() {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let Some(n) = name.get(..3).and_then(|n| n.parse::<u32>().ok()) else {
            continue;
        };
        if !(50..=63).contains(&n) {
            continue;
        }
        seen += 1;
        let bytes = std::fs::read(&path).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        match plan::compile(&text) {
            Ok(p) => {
                compiled += 1;
                assert!(!p.steps.is_empty(), "{name}: an empty plan");
            }
            Err(e) => {
                assert!(e.line >= 1, "{name}: {e}");
                assert!(
                    e.message.len() > 20,
                    "{name}: a reason a technician can act on: {e}"
                );
            }
        }
    }
    assert_eq!(seen, 14);
    eprintln!("{compiled} of 14 corpus scripts compile to plans");
}

/// The real exports of the corpus (000–049): each compiles to a plan or is
/// refused at a line with a reason; none is refused for `set N`, the
/// positional items RouterOS's own export prints (resolved when the step
/// runs). Prints how many compile.
#[test]
fn corpus_exports_compile_or_are_refused_clearly_and_positions_never_stop_them() {
    let mut seen = 0;
    let mut compiled = 0;
    let mut refused = Vec::new();
    for path in corpus_check::corpus_files() {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let Some(n) = name.get(..3).and_then(|n| n.parse::<u32>().ok()) else {
            continue;
        };
        if n >= 50 {
            continue;
        }
        seen += 1;
        let bytes = std::fs::read(&path).unwrap();
        match plan::compile(&String::from_utf8_lossy(&bytes)) {
            Ok(p) => {
                compiled += 1;
                assert!(!p.steps.is_empty(), "{name}: an empty plan");
            }
            Err(e) => {
                assert!(e.line >= 1, "{name}: {e}");
                assert!(
                    !(e.message.contains("position") && e.message.contains(" set ")),
                    "{name}: a set by position is resolved, not refused: {e}"
                );
                refused.push(format!("{name}: {e}"));
            }
        }
    }
    assert!(seen >= 30, "the corpus's exports are there ({seen})");
    eprintln!(
        "{compiled} of {seen} corpus exports compile to plans; refused:\n{}",
        refused.join("\n")
    );
}
