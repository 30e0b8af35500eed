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
