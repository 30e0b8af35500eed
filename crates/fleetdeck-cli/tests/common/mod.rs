//! Helpers the CLI test files share.

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
