//! `/export` text in the layout real routers write (ROUTEROS.md §4.4).

use crate::{device::Device, model::Item};

/// Menus in export order, with how each is written.
const SECTIONS: &[(&str, Style)] = &[
    ("interface/bridge", Style::Add),
    ("interface", Style::DefaultNames),
    ("interface/bridge/port", Style::Add),
    ("ip/address", Style::Add),
    ("ip/dns", Style::Singleton),
    ("ip/route", Style::Add),
    ("system/identity", Style::Singleton),
    ("system/scheduler", Style::Add),
    ("system/script", Style::Add),
];

#[derive(Clone, Copy)]
enum Style {
    /// `add k=v …` per item.
    Add,
    /// `set [ find default-name=ether1 ] name=…` for renamed ports.
    DefaultNames,
    /// `set k=v` for a one-item menu.
    Singleton,
}

impl Device {
    /// The router's `/export` text, as a terminal would show it.
    pub fn export(&self) -> String {
        export_text(self)
    }
}

/// The whole configuration as `/export` (compact) prints it.
pub fn export_text(device: &Device) -> String {
    let p = device.profile();
    let mut out = format!(
        "# {} by RouterOS {}\n# software id = {}\n#\n# model = {}\n# serial number = {}\n",
        p.date(2024, 9, 21, "10:00:00"),
        p.version,
        software_id(device.index()),
        device.board_name(),
        device.serial()
    );
    device.with_config(|config| {
        for (path, style) in SECTIONS {
            let Some(menu) = config.get(*path) else {
                continue;
            };
            let lines: Vec<String> = match style {
                Style::Add => menu
                    .items
                    .iter()
                    .map(|i| format!("add{}", args(i, menu.defaults)))
                    .collect(),
                Style::DefaultNames => menu
                    .items
                    .iter()
                    .filter(|i| i.get("name") != i.get("default-name"))
                    .map(|i| {
                        format!(
                            "set [ find default-name={} ] name={}",
                            quote(i.get("default-name").unwrap_or_default()),
                            quote(i.get("name").unwrap_or_default())
                        )
                    })
                    .collect(),
                Style::Singleton => menu
                    .items
                    .iter()
                    .map(|i| format!("set{}", args(i, &[])))
                    .filter(|l| l != "set")
                    .collect(),
            };
            if lines.is_empty() {
                continue;
            }
            out.push('/');
            out.push_str(&path.replace('/', " "));
            out.push('\n');
            for l in lines {
                out.push_str(&l);
                out.push('\n');
            }
        }
    });
    out
}

fn args(item: &Item, defaults: &[(&str, &str)]) -> String {
    let mut s = String::new();
    for (k, v) in &item.attrs {
        let is_default = defaults
            .iter()
            .any(|(dk, dv)| dk == k && dv.as_bytes() == v.as_slice());
        if k.starts_with('.') || is_default || (v.is_empty() && k != "name") {
            continue;
        }
        s.push(' ');
        s.push_str(k);
        s.push('=');
        s.push_str(&quote(v));
    }
    s
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
            .all(|b| b.is_ascii_alphanumeric() || b"._:/,@+*-".contains(b));
    if bare {
        String::from_utf8_lossy(v).into_owned()
    } else {
        routeros_proto::script::quote_value(v)
    }
}
