//! `/export` text in the layout real routers write (ROUTEROS.md §4.4):
//! sections in the router's order, items `add`ed or `set` through the
//! selector the router names them by, only configured properties (all of
//! them with `verbose`), every line with its path with `terse`, secrets
//! hidden or shown as the version does by default.

use crate::{
    device::Device,
    import::menu_of,
    model::{Address, Item, Menu, MenuKind, Shown},
};

/// The simulator's own section order, for a router not seeded from an
/// export (and after a seeded one's sections, for menus it did not name).
pub(crate) const SECTIONS: &[&str] = &[
    "interface/bridge",
    "interface/ethernet",
    "interface/bridge/port",
    "ip/address",
    "ip/dns",
    "ip/route",
    "ip/service",
    "system/identity",
    "system/scheduler",
    "system/script",
];

/// Properties an export leaves out unless asked to show secrets.
const SENSITIVE: &[&str] = &[
    "password",
    "secret",
    "passphrase",
    "security.passphrase",
    "wpa-pre-shared-key",
    "wpa2-pre-shared-key",
    "wpa3-pre-shared-key",
    "authentication-key",
    "auth-key",
    "key",
    "private-key",
    "preshared-key",
    "management-protection-key",
    "static-sta-private-key",
    "static-transmit-key",
    "static-key-0",
    "static-key-1",
    "static-key-2",
    "static-key-3",
];

/// How `/export` was asked to print.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExportOptions {
    /// `terse`: every line carries its section's path.
    pub terse: bool,
    /// `verbose`: defaults printed too.
    pub verbose: bool,
    /// `show-sensitive` (`Some(true)`) / `hide-sensitive` (`Some(false)`);
    /// `None`: the version's default (shown on 6.x, hidden on 7.x).
    pub sensitive: Option<bool>,
}

impl ExportOptions {
    /// Reads the options from an export command's words (`terse`,
    /// `verbose`, `show-sensitive`, `hide-sensitive`, `compact`).
    pub fn from_words<'a>(words: impl IntoIterator<Item = &'a str>) -> Self {
        let mut o = Self::default();
        for w in words {
            match w {
                "terse" => o.terse = true,
                "verbose" => o.verbose = true,
                "show-sensitive" => o.sensitive = Some(true),
                "hide-sensitive" => o.sensitive = Some(false),
                _ => {}
            }
        }
        o
    }
}

impl Device {
    /// The router's `/export` text (compact), as a terminal would show it.
    pub fn export(&self) -> String {
        export_text(self, ExportOptions::default())
    }

    /// The router's `/export` text with `options`.
    pub fn export_with(&self, options: ExportOptions) -> String {
        export_text(self, options)
    }
}

/// The whole configuration as `/export` prints it.
pub fn export_text(device: &Device, options: ExportOptions) -> String {
    let p = device.profile();
    let show_secrets = options.sensitive.unwrap_or(!p.at_least(7, 0, 0));
    let mut out = format!(
        "# {} by RouterOS {}\n# software id = {}\n#\n# model = {}\n# serial number = {}\n",
        p.date(2024, 9, 21, "10:00:00"),
        p.version,
        software_id(device.index()),
        device.board_name(),
        device.serial()
    );
    device.with_config(|config| {
        for (run, section) in config.order.iter().enumerate() {
            let Some(menu) = config.get(menu_of(section)) else {
                continue;
            };
            let first = config.order.iter().position(|s| s == section) == Some(run);
            let lines = menu_lines(menu, options, show_secrets, |item| match item.run {
                Some(r) => r == run,
                None => first,
            });
            if lines.is_empty() {
                continue;
            }
            let path = format!("/{}", section.replace('/', " "));
            if !options.terse {
                out.push_str(&path);
                out.push('\n');
            }
            for l in lines {
                // A terse export is one line per command, never wrapped.
                let line = if options.terse {
                    format!("{path} {l}")
                } else {
                    wrap(&l)
                };
                out.push_str(&line);
                out.push('\n');
            }
        }
    });
    out
}

/// The lines of one section, without its path.
fn menu_lines(
    menu: &Menu,
    options: ExportOptions,
    show_secrets: bool,
    in_run: impl Fn(&Item) -> bool,
) -> Vec<String> {
    let mut lines = Vec::new();
    for (index, item) in menu.items.iter().enumerate() {
        if !in_run(item) {
            continue;
        }
        let args = args(item, menu.defaults, options.verbose, show_secrets);
        let line = match (&item.by, menu.kind) {
            (_, MenuKind::Singleton) => format!("set{args}"),
            (Address::Added, _) => format!("add{args}"),
            (Address::Find(keys), _) => {
                let keys: Vec<String> = keys
                    .iter()
                    .map(|(k, v)| format!("{k}={}", quote(v)))
                    .collect();
                format!("set [ find {} ]{args}", keys.join(" "))
            }
            (Address::Position, _) => format!("set {index}{args}"),
            (Address::Name, _) => {
                format!("set {}{args}", quote(item.get("name").unwrap_or_default()))
            }
            (Address::Id, _) => format!("set {}{args}", item.id().unwrap_or_default()),
        };
        // An item nobody configured is not in a compact export; an added
        // one always is.
        if args.is_empty() && (item.by != Address::Added || menu.kind == MenuKind::Singleton) {
            continue;
        }
        lines.push(line);
    }
    lines
}

/// ` name=value …` for what the export prints of `item`: its configured
/// properties in order, then (verbose) the menu's other defaults.
fn args(item: &Item, defaults: &[(&str, &str)], verbose: bool, show_secrets: bool) -> String {
    let hidden = |name: &str| !show_secrets && SENSITIVE.contains(&name);
    let mut s = String::new();
    // RouterOS 7 prints a grouped property after one of its group as
    // `.name` (`local.address=X .role=Y`).
    let mut group: Option<&str> = None;
    for entry in &item.shown {
        match entry {
            Shown::Value(name) => {
                if let Some(v) = item.get(name).filter(|_| !hidden(name)) {
                    let this = name.rsplit_once('.').map(|(g, _)| g);
                    let printed = match (this, group) {
                        (Some(g), Some(prev)) if g == prev => &name[g.len()..],
                        _ => name.as_str(),
                    };
                    s.push_str(&format!(" {printed}={}", quote(v)));
                    group = this;
                    continue;
                }
            }
            Shown::Flag(name) => s.push_str(&format!(" {name}")),
            Shown::Unset(name) => s.push_str(&format!(" !{name}")),
        }
        group = None;
    }
    if verbose {
        // The defaults the simulator knows for the menu (`mtu=auto` of a
        // bridge, `distance=1` of a route): what verbose adds.
        for (name, default) in defaults {
            let listed = item.shown.iter().any(|e| match e {
                Shown::Value(n) | Shown::Flag(n) | Shown::Unset(n) => n == name,
            });
            if listed || hidden(name) {
                continue;
            }
            let v = item.get(name).unwrap_or(default.as_bytes());
            s.push_str(&format!(" {name}={}", quote(v)));
        }
    }
    s
}

/// Breaks a line longer than a terminal's 80 columns between arguments,
/// ` \` then four spaces, as RouterOS does (it also cuts inside long
/// strings; reading the text back joins both the same way).
fn wrap(line: &str) -> String {
    const WIDTH: usize = 80;
    if line.len() <= WIDTH {
        return line.to_owned();
    }
    let mut out = String::new();
    let mut current = String::new();
    let mut in_quotes = false;
    let mut depth = 0usize;
    let mut escaped = false;
    let mut token = String::new();
    for c in line.chars() {
        token.push(c);
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' => escaped = true,
            '"' => in_quotes = !in_quotes,
            '[' if !in_quotes => depth += 1,
            ']' if !in_quotes => depth = depth.saturating_sub(1),
            ' ' if !in_quotes && depth == 0 => {
                if !current.is_empty() && current.len() + token.len() > WIDTH - 2 {
                    out.push_str(current.trim_end());
                    out.push_str(" \\\n    ");
                    current.clear();
                }
                current.push_str(&token);
                token.clear();
            }
            _ => {}
        }
    }
    if !current.is_empty() && current.len() + token.len() > WIDTH - 2 {
        out.push_str(current.trim_end());
        out.push_str(" \\\n    ");
        current.clear();
    }
    current.push_str(&token);
    out.push_str(&current);
    out
}

fn software_id(index: usize) -> String {
    let x = (index as u32).wrapping_mul(2_654_435_761);
    format!("{:04X}-{:04X}", x >> 16, x & 0xFFFF)
}

/// Leaves simple tokens bare, as exports do, and quotes the rest with the
/// script module's escaping.
pub fn quote(v: &[u8]) -> String {
    let bare = !v.is_empty()
        && v.iter()
            .all(|b| b.is_ascii_alphanumeric() || b"._:/,@+*!~-".contains(b));
    if bare {
        String::from_utf8_lossy(v).into_owned()
    } else {
        routeros_proto::script::quote_value(v)
    }
}
