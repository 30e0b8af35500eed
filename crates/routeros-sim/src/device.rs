//! One simulated router: hardware, live counters and its configuration.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use routeros_proto::value::format_duration;
use tokio::sync::{broadcast, watch};

use crate::{
    faults::Faults,
    model::{Address, Config, Item, Menu, Shown},
    profile::Profile,
};

const BOARDS: &[(&str, &str, u32, u64)] = &[
    // board name, architecture, cpu count, total memory (bytes)
    ("hAP ac^2", "arm", 4, 128 << 20),
    ("RB4011iGS+", "arm", 4, 1 << 30),
    ("CCR2004-16G-2S+", "arm64", 4, 4 << 30),
    ("hEX", "mmips", 2, 256 << 20),
    ("CRS326-24G-2S+", "arm", 1, 512 << 20),
];

const INTERFACES: usize = 5;

/// A change to a menu item, for `listen` and `print =follow=`.
#[derive(Debug, Clone)]
pub struct Change {
    pub menu: String,
    pub item: Item,
    pub dead: bool,
}

/// A simulated router. Its configuration survives sessions and is changed
/// by the API and by `/import`; it is lost on `/system/backup/load` of an
/// older backup, like a real router's.
#[derive(Debug)]
pub struct Device {
    index: usize,
    profile: Profile,
    pub(crate) state: Mutex<State>,
    faults: Mutex<Faults>,
    pub(crate) changes: broadcast::Sender<Change>,
    /// Bumped on reboot: sessions watch it and drop.
    pub(crate) boots: watch::Sender<u64>,
    pub(crate) reboot_delay: Duration,
    pub(crate) clock: Mutex<crate::scheduler::Clock>,
    pub(crate) schedules: Mutex<crate::scheduler::Schedules>,
    /// Commands handled in logged-in sessions, before each is run.
    pub(crate) commands: watch::Sender<u64>,
    /// `/system resource print`s answered: the polls a router saw.
    resource_reads: std::sync::atomic::AtomicU64,
}

#[derive(Debug)]
pub(crate) struct State {
    pub config: Config,
    pub booted: Instant,
    pub down_until: Option<Instant>,
    /// Backup file name → the configuration it saved, and the password
    /// it was encrypted with (none: saved unencrypted).
    pub backups: HashMap<String, (Config, Option<String>)>,
}

impl Device {
    pub fn new(index: usize, version: &str) -> Self {
        let profile = Profile::new(version);
        let config = initial_config(index, &profile);
        let (changes, _) = broadcast::channel(1024);
        let (boots, _) = watch::channel(0);
        Self {
            index,
            profile,
            state: Mutex::new(State {
                config,
                booted: Instant::now(),
                down_until: None,
                backups: HashMap::new(),
            }),
            faults: Mutex::new(Faults::default()),
            changes,
            boots,
            reboot_delay: Duration::from_secs(2),
            clock: Mutex::new(crate::scheduler::Clock::new()),
            schedules: Mutex::new(Default::default()),
            commands: watch::channel(0).0,
            resource_reads: Default::default(),
        }
    }

    pub fn index(&self) -> usize {
        self.index
    }

    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    pub fn faults(&self) -> Faults {
        self.faults.lock().expect("faults lock").clone()
    }

    /// Changes the faults of this router's sessions, new and open ones.
    pub fn set_faults(&self, faults: Faults) {
        *self.faults.lock().expect("faults lock") = faults;
    }

    pub fn identity(&self) -> String {
        self.with_config(|c| {
            c.get("system/identity")
                .and_then(|m| m.items[0].get_str("name"))
                .unwrap_or_default()
        })
    }

    pub fn set_identity(&self, name: &str) {
        self.with_config(|c| {
            if let Some(m) = c.get_mut("system/identity") {
                m.items[0].set("name", name.as_bytes());
            }
        });
    }

    pub(crate) fn with_config<T>(&self, f: impl FnOnce(&mut Config) -> T) -> T {
        f(&mut self.state.lock().expect("state lock").config)
    }

    /// A copy of one menu's items, e.g. `ip/address`.
    pub fn items(&self, menu: &str) -> Vec<Item> {
        self.with_config(|c| c.get(menu).map(|m| m.items.clone()).unwrap_or_default())
    }

    pub fn is_up(&self) -> bool {
        let mut st = self.state.lock().expect("state lock");
        match st.down_until {
            Some(t) if Instant::now() < t => false,
            Some(_) => {
                st.down_until = None;
                st.booted = Instant::now();
                true
            }
            None => true,
        }
    }

    /// Starts a reboot: sessions drop now, the router answers again after
    /// `reboot_delay`, with its uptime starting from zero.
    pub fn reboot(&self) {
        {
            let mut st = self.state.lock().expect("state lock");
            st.down_until = Some(Instant::now() + self.reboot_delay);
        }
        self.boots.send_modify(|b| *b += 1);
    }

    /// Counts the commands the router has been sent (logged in), each
    /// counted just before it runs: a test that must act between two of a
    /// client's commands waits for the count, not for a clock.
    pub fn commands(&self) -> watch::Receiver<u64> {
        self.commands.subscribe()
    }

    /// How many reboots have begun since the router started: a test that
    /// waits for a reboot waits for this to grow, not for a clock.
    pub fn boots(&self) -> u64 {
        *self.boots.borrow()
    }

    /// Whether a reboot is under way (sessions refused) right now.
    pub fn is_rebooting(&self) -> bool {
        !self.is_up()
    }

    /// Ends a reboot under way now instead of after `reboot_delay`, so a
    /// test can hold a router down (a long delay) for exactly as long as it
    /// needs to look at it.
    pub fn finish_reboot(&self) {
        let mut st = self.state.lock().expect("state lock");
        if st.down_until.take().is_some() {
            st.booted = Instant::now();
        }
    }

    fn board(&self) -> (&'static str, &'static str, u32, u64) {
        BOARDS[self.index % BOARDS.len()]
    }

    pub fn uptime_secs(&self) -> u64 {
        let st = self.state.lock().expect("state lock");
        // A reboot resets the offset: a router that came back has low uptime.
        let offset = if *self.boots.borrow() > 0 {
            0
        } else {
            3600 + (self.index as u64 * 7_307) % 2_000_000
        };
        offset + st.booted.elapsed().as_secs()
    }

    fn wall_secs() -> f64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or_default()
    }

    /// CPU load in percent: a per-router base, a slow wave and a little
    /// noise that changes every second.
    pub fn cpu_load(&self) -> u64 {
        let t = Self::wall_secs();
        let base = 8.0 + (self.index % 7) as f64 * 6.0;
        let wave = 18.0 * ((t / 90.0) + self.index as f64).sin();
        let noise = (mix(self.index as u64, t as u64) % 11) as f64 - 5.0;
        (base + wave + noise).clamp(0.0, 100.0).round() as u64
    }

    fn free_memory(&self) -> u64 {
        let total = self.board().3;
        let used_frac = 0.35 + 0.1 * ((Self::wall_secs() / 300.0) + self.index as f64).sin();
        (total as f64 * (1.0 - used_frac)) as u64
    }

    /// Bytes per second on interface `n`: steady per interface, so counters
    /// only grow while the router is up.
    pub(crate) fn rate(&self, n: usize) -> f64 {
        12_500.0 * (1 + (self.index + n) % 9) as f64
    }

    fn counters(&self, n: usize) -> (u64, u64) {
        let up = self.uptime_secs() as f64;
        let rate = self.rate(n);
        ((up * rate) as u64, (up * rate * 0.42) as u64)
    }

    /// The items a `print` of `menu` shows, with live values filled in.
    pub(crate) fn print_items(&self, menu: &str) -> Option<Vec<Item>> {
        match menu {
            "system/resource" => Some(vec![self.resource()]),
            "system/routerboard" => Some(vec![self.routerboard()]),
            "system/scheduler" => Some(self.scheduler_items()),
            "system/clock" => {
                let mut items =
                    self.with_config(|c| c.get("system/clock").map(|m| m.items.clone()))?;
                let now = self.clock_text(self.clock_secs());
                let (date, time) = now.split_once(' ').unwrap_or((&now, ""));
                for item in &mut items {
                    item.set("time", time);
                    item.set("date", date);
                }
                Some(items)
            }
            "interface" => {
                let mut items =
                    self.with_config(|c| c.get("interface").map(|m| m.items.clone()))?;
                for item in &mut items {
                    let n = item
                        .get_str("default-name")
                        .and_then(|d| d.trim_start_matches("ether").parse::<usize>().ok())
                        .map(|n| n.saturating_sub(1))
                        .unwrap_or(INTERFACES);
                    let (rx, tx) = self.counters(n);
                    for (k, v) in [
                        ("rx-byte", rx),
                        ("tx-byte", tx),
                        ("rx-packet", rx / 800),
                        ("tx-packet", tx / 700),
                        ("fp-rx-byte", rx / 3),
                        ("fp-tx-byte", tx / 3),
                    ] {
                        item.set(k, v.to_string());
                    }
                }
                Some(items)
            }
            "file" => {
                let limit = self.profile.inline_contents_limit();
                let items = self.with_config(|c| c.get("file").map(|m| m.items.clone()))?;
                Some(
                    items
                        .into_iter()
                        .map(|mut i| {
                            if i.get("contents").map(|c| c.len() > limit).unwrap_or(false) {
                                i.attrs.retain(|(k, _)| k != "contents");
                            }
                            i
                        })
                        .collect(),
                )
            }
            other => self.with_config(|c| c.get(other).map(|m| m.items.clone())),
        }
    }

    /// How many times `/system resource` was read: each poll reads it
    /// once, so a test counts the polls a router answered.
    pub fn resource_reads(&self) -> u64 {
        self.resource_reads
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    fn resource(&self) -> Item {
        self.resource_reads
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let (board, arch, cpus, total_mem) = self.board();
        let mut item = Item::new([
            ("uptime", format_duration(self.uptime_secs())),
            ("version", format!("{} (stable)", self.profile.version)),
            ("build-time", self.profile.date(2024, 9, 20, "13:00:27")),
            ("factory-software", "6.44.6".into()),
            ("free-memory", self.free_memory().to_string()),
            ("total-memory", total_mem.to_string()),
            (
                "cpu",
                if arch == "mmips" {
                    "MIPS 1004Kc V2.15"
                } else {
                    "ARM"
                }
                .into(),
            ),
            ("cpu-count", cpus.to_string()),
            ("cpu-frequency", "880".into()),
            ("cpu-load", self.cpu_load().to_string()),
            (
                "free-hdd-space",
                (9_437_184 + (self.index as u64 % 5) * 1_048_576).to_string(),
            ),
            ("total-hdd-space", "16777216".into()),
            ("write-sect-since-reboot", "1312".into()),
            ("write-sect-total", "48213".into()),
            ("architecture-name", arch.into()),
            ("board-name", board.into()),
            ("platform", "MikroTik".into()),
        ]);
        for (name, value) in self.faults().resource {
            item.set(&name, value);
        }
        item
    }

    fn routerboard(&self) -> Item {
        let (board, ..) = self.board();
        Item::new([
            ("routerboard", self.profile.bool_word(true).to_owned()),
            ("board-name", board.into()),
            ("model", board.into()),
            ("serial-number", self.serial()),
            ("firmware-type", "ipq4000L".into()),
            ("factory-firmware", "6.44.6".into()),
            ("current-firmware", self.profile.version.clone()),
            ("upgrade-firmware", self.profile.version.clone()),
        ])
    }

    pub fn serial(&self) -> String {
        format!(
            "HG{:08X}",
            0x5A00_0000u32.wrapping_add(self.index as u32 * 7919)
        )
    }

    pub fn board_name(&self) -> &'static str {
        self.board().0
    }

    /// Live traffic of one interface in bits per second, for
    /// `/interface/monitor-traffic`.
    pub(crate) fn traffic(&self, name: &str) -> Option<(u64, u64)> {
        let items = self.items("interface");
        let item = items
            .iter()
            .find(|i| i.get("name") == Some(name.as_bytes()))?;
        let n = item
            .get_str("default-name")
            .and_then(|d| d.trim_start_matches("ether").parse::<usize>().ok())?
            .saturating_sub(1);
        let wobble = 1.0 + 0.2 * (Self::wall_secs() + n as f64).sin();
        let rx = (self.rate(n) * 8.0 * wobble) as u64;
        Some((rx, (rx as f64 * 0.42) as u64))
    }

    /// Announces a change to `listen` and `=follow=` streams.
    pub(crate) fn notify(&self, menu: &str, item: Item, dead: bool) {
        let _ = self.changes.send(Change {
            menu: menu.to_owned(),
            item,
            dead,
        });
    }
}

/// Properties that name an interface must name one that exists, or
/// RouterOS refuses with its well-known trap.
pub(crate) fn check_references(
    config: &Config,
    menu: &str,
    attrs: &[(String, Vec<u8>)],
) -> Result<(), crate::model::Failure> {
    let refs: &[&str] = match menu {
        "ip/address" | "interface/bridge/port" => &["interface"],
        _ => return Ok(()),
    };
    for r in refs {
        if let Some((_, v)) = attrs.iter().find(|(k, _)| k == r) {
            // Every kind of interface: ports, bridges, and the VLANs,
            // tunnels and bonds an import kept in generic menus.
            let known = config
                .iter()
                .filter(|(path, _)| *path == "interface" || path.starts_with("interface/"))
                .any(|(_, menu)| {
                    menu.items
                        .iter()
                        .any(|i| i.get("name") == Some(v.as_slice()))
                });
            if !known {
                return Err(crate::model::Failure::new(
                    Some(1),
                    format!("input does not match any value of {r}"),
                ));
            }
        }
    }
    Ok(())
}

/// A factory-fresh configuration, plus what the simulator needs to be
/// useful: an identity per router and the `admin` user.
fn initial_config(index: usize, profile: &Profile) -> Config {
    let mut c = Config::new();
    let mut identity = Item::new([("name", format!("sim-router-{index:04}"))]);
    identity.shown.push(Shown::Value("name".into()));
    c.insert("system/identity".into(), Menu::singleton(identity));
    c.insert(
        "system/clock".into(),
        Menu::singleton(Item::new([
            ("time-zone-name", "UTC"),
            ("time-zone-autodetect", profile.bool_word(true)),
        ])),
    );
    let mut iface = Menu::table(&["name"], &["name"], &[]);
    for n in 1..=INTERFACES {
        let mac = format!(
            "48:8F:5A:{:02X}:{:02X}:{:02X}",
            (index >> 8) & 0xFF,
            index & 0xFF,
            n
        );
        iface.push(Item::new([
            ("name", format!("ether{n}")),
            ("default-name", format!("ether{n}")),
            ("type", "ether".into()),
            ("mtu", "1500".into()),
            ("actual-mtu", "1500".into()),
            ("l2mtu", "1598".into()),
            ("mac-address", mac),
            ("rx-drop", "0".into()),
            ("tx-drop", "0".into()),
            ("tx-queue-drop", "0".into()),
            ("rx-error", "0".into()),
            ("tx-error", "0".into()),
            ("link-downs", "0".into()),
            ("running", profile.bool_word(n <= 3).into()),
            ("disabled", profile.bool_word(false).into()),
        ]));
        if let Some(port) = iface.items.last_mut() {
            port.by = Address::Find(vec![(
                "default-name".into(),
                format!("ether{n}").into_bytes(),
            )]);
        }
    }
    c.insert("interface".into(), iface);
    c.insert(
        "ip/address".into(),
        Menu::table(&["address", "interface"], &[], &[("disabled", "false")]),
    );
    c.insert(
        "ip/route".into(),
        Menu::table(
            &["gateway"],
            &[],
            &[("dst-address", "0.0.0.0/0"), ("distance", "1")],
        ),
    );
    let mut groups = Menu::table(&["name", "policy"], &["name"], &[]);
    for (name, policy) in [
        ("read", "local,telnet,ssh,reboot,read,test,winbox,password,web,sniff,sensitive,api,romon,rest-api"),
        ("write", "local,telnet,ssh,reboot,read,write,test,winbox,password,web,sniff,sensitive,api,romon,rest-api"),
        ("full", "local,telnet,ssh,ftp,reboot,read,write,policy,test,winbox,password,web,sniff,sensitive,api,romon,rest-api"),
    ] {
        groups.push(Item::new([("name", name), ("policy", policy), ("skin", "default")]));
    }
    for g in &mut groups.items {
        g.by = Address::Name;
    }
    c.insert("user/group".into(), groups);
    let mut users = Menu::table(&["name", "group"], &["name"], &[("disabled", "false")]);
    users.push(Item::new([
        ("name", "admin"),
        ("group", "full"),
        ("address", ""),
        ("disabled", "false"),
    ]));
    c.insert("user".into(), users);
    let mut services = Menu::table(&["name"], &["name"], &[]);
    for (name, port) in [
        ("telnet", 23),
        ("ftp", 21),
        ("www", 80),
        ("ssh", 22),
        ("www-ssl", 443),
        ("api", 8728),
        ("winbox", 8291),
        ("api-ssl", 8729),
    ] {
        // `www-ssl` is off until it has a certificate, as shipped.
        services.push(Item::new([
            ("name", name.to_owned()),
            ("port", port.to_string()),
            ("address", String::new()),
            ("disabled", profile.bool_word(name == "www-ssl").to_owned()),
        ]));
    }
    for s in &mut services.items {
        s.by = Address::Name;
    }
    c.insert("ip/service".into(), services);
    c.insert(
        "system/scheduler".into(),
        Menu::table(
            &["name"],
            &["name"],
            &[("interval", "0s"), ("disabled", "false")],
        ),
    );
    c.insert(
        "system/script".into(),
        Menu::table(
            &["name"],
            &["name"],
            &[(
                "policy",
                "ftp,reboot,read,write,policy,test,password,sniff,sensitive,romon",
            )],
        ),
    );
    c.insert("file".into(), Menu::table(&["name"], &["name"], &[]));
    c.insert(
        "interface/bridge".into(),
        Menu::table(
            &["name"],
            &["name"],
            &[("mtu", "auto"), ("disabled", "false")],
        ),
    );
    c.insert(
        "interface/bridge/port".into(),
        Menu::table(&["bridge", "interface"], &[], &[("disabled", "false")]),
    );
    c.insert(
        "ip/dns".into(),
        Menu::singleton(Item::new([
            ("servers", ""),
            ("allow-remote-requests", profile.bool_word(false)),
        ])),
    );
    c.order = crate::export::SECTIONS
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    c
}

/// What a router of this kind holds before anyone configures it: the
/// factory configuration with the identity RouterOS ships (`MikroTik`) and
/// no export order of its own.
fn blank_config(index: usize, profile: &Profile) -> Config {
    let mut c = initial_config(index, profile);
    if let Some(identity) = c.get_mut("system/identity") {
        identity.items[0] = Item::new([("name", "MikroTik")]);
    }
    c.order.clear();
    c
}

impl Device {
    /// Makes this router's configuration the one `export` describes, as
    /// if the export had been taken from it: every menu and item the text
    /// names is kept (menus the simulator does not model as generic
    /// tables and one-item menus), and `/export` prints it back in the
    /// text's order and style. Returns how many commands it ran.
    pub fn seed(&self, export: &[u8]) -> Result<usize, String> {
        self.seed_as(export, crate::import::Mode::Seed)
    }

    /// Makes this router a factory-fresh one of the kind `export` was taken
    /// from: the menus it names, and the items its selectors name (ports by
    /// `default-name`, default profiles, positional items) with none of the
    /// export's settings. Pushing the export onto it is a fresh install.
    pub fn seed_factory(&self, export: &[u8]) -> Result<usize, String> {
        self.seed_as(export, crate::import::Mode::Factory)
    }

    fn seed_as(&self, export: &[u8], mode: crate::import::Mode) -> Result<usize, String> {
        let mut config = blank_config(self.index, &self.profile);
        let report =
            crate::import::run(&mut crate::import::Seeding::new(&mut config, mode), export)
                .map_err(|f| f.message)?;
        // Menus the export did not name, changed later, print after it.
        for section in crate::export::SECTIONS {
            if !config.order.iter().any(|s| s == section) {
                config.order.push((*section).to_owned());
            }
        }
        config.last = None;
        self.with_config(|c| *c = config);
        Ok(report.executed)
    }
}

/// A cheap deterministic hash for noise.
pub(crate) fn mix(a: u64, b: u64) -> u64 {
    let mut x = a.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ b.wrapping_mul(0xC2B2_AE3D_27D4_EB4F);
    x ^= x >> 31;
    x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^ (x >> 29)
}
