//! The command line: clap's definitions of every command and flag (their
//! doc comments are the --help text) and how a router login is built from them.

use std::time::Duration;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use fleet_core::credentials::Sensitive;
use routeros::{ConnectOptions, Fingerprint, TlsMode};

#[derive(Parser)]
#[command(
    name = "fleetdeck-cli",
    version,
    about = "Fleetdeck from a terminal: MikroTik RouterOS fleet operations"
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Cmd,
}

#[derive(Subcommand)]
pub(crate) enum Cmd {
    /// Run RouterOS API commands and print every reply sentence as a JSON line.
    ///
    /// Several commands, separated by `--`, are pipelined on one session and
    /// printed in order. Example:
    /// fleetdeck-cli ros --host 192.168.88.1 -- /interface/print ?type=ether -- /system/resource/print
    Ros {
        #[command(flatten)]
        login: Login,
        /// Only these properties (adds .proplist= to every command).
        #[arg(long, value_delimiter = ',')]
        proplist: Vec<String>,
        /// Query words added to every command, e.g. --query '?type=ether'.
        #[arg(long)]
        query: Vec<String>,
        /// Stream the (first) command's rows as they come (`=follow=` for a
        /// print; listen and monitor-traffic stream anyway) until --duration
        /// passes or Ctrl-C, then cancel it on the router.
        #[arg(long)]
        follow: bool,
        /// How long --follow streams, e.g. 30s, 5m; default: until Ctrl-C.
        #[arg(long, value_name = "DURATION")]
        duration: Option<String>,
        /// The command path and its words (=name=value, ?query, .proplist=a,b).
        #[arg(last = true, required = true, value_name = "COMMAND")]
        words: Vec<String>,
    },
    /// The settings the app keeps in the data folder (poll interval, push
    /// concurrency, codepage, the shared database's address, the last sync).
    Settings {
        #[arg(long)]
        json: bool,
    },
    /// The fleet store: schema and row counts.
    Store {
        #[command(subcommand)]
        action: StoreCmd,
    },
    /// Deliver FROM's outbox (records made on site) to TO; when TO is an
    /// embedded store, then copy a snapshot of FROM into it for offline
    /// review. Safe to re-run after any interruption.
    Sync {
        /// Sync the embedded store (or FLEETDECK_STORE) with the shared
        /// database set in the app's Data and sync, its password from the
        /// keyring: what the app's "Sync now" does.
        #[arg(long, conflicts_with_all = ["from", "to"])]
        shared: bool,
        #[arg(long, required_unless_present = "shared")]
        from: Option<String>,
        #[arg(long, required_unless_present = "shared")]
        to: Option<String>,
        /// Raw check-ins, audit events and pushes copied by the snapshot:
        /// this far back (older hours come as hourly rollups).
        #[arg(long, default_value = "24h")]
        window: String,
        #[arg(long)]
        json: bool,
    },
    /// Poll routers into the store: one router by --host, or many by
    /// --targets, every --interval until Ctrl-C, or one sweep with --once.
    Poll {
        #[command(flatten)]
        login: Login,
        /// A file (one host[:port] a line, or an inventory CSV with a
        /// header: host,port,username,site,tags) or HOST:PORT+N for N
        /// routers on consecutive ports. Without --password-env, each
        /// router's password comes from the credential store.
        #[arg(long, conflicts_with = "host")]
        targets: Option<String>,
        /// sqlite://PATH or mysql://USER@HOST:PORT/DB; default: the embedded store.
        #[arg(long, env = "FLEETDECK_STORE", hide_env_values = true)]
        store: Option<String>,
        /// Poll cadence for routers whose site sets none.
        #[arg(long, default_value = "30s")]
        interval: String,
        /// One sweep of every target, then a report.
        #[arg(long)]
        once: bool,
        /// Connects and logins in progress at once.
        #[arg(long, default_value_t = 256)]
        concurrency: usize,
        /// Alert on routers older than this RouterOS version (e.g. 7.16.2).
        #[arg(long)]
        target_version: Option<String>,
        /// Reports as JSON lines.
        #[arg(long)]
        json: bool,
    },
    /// Find routers: MNDP on the local segment, and with --probe a TCP
    /// probe of the API ports over a subnet.
    Discover {
        /// Where to listen for MNDP (default 0.0.0.0:5678, sending
        /// discovery requests by broadcast; a specific address only listens).
        #[arg(long, value_name = "ADDR:PORT")]
        listen: Option<std::net::SocketAddr>,
        #[arg(long, default_value = "5s")]
        duration: String,
        /// Also probe this IPv4 subnet (at most a /16), e.g. 192.168.88.0/24.
        #[arg(long, value_name = "CIDR")]
        probe: Option<String>,
        #[arg(long, value_delimiter = ',', default_value = "8728,8729")]
        ports: Vec<u16>,
        /// Probe connections in progress at once.
        #[arg(long, default_value_t = 256)]
        concurrency: usize,
        #[arg(long)]
        json: bool,
    },
    /// Render a template and push it to routers in waves: backup, safety
    /// net, steps, verify, confirm, per router; an audit trail of all of it.
    Push {
        #[command(flatten)]
        login: Login,
        #[arg(long)]
        template: std::path::PathBuf,
        /// Placeholder values, JSON or TOML.
        #[arg(long)]
        values: std::path::PathBuf,
        /// A file, HOST[:PORT][,…] or HOST:PORT+N (see poll --targets).
        #[arg(long)]
        targets: String,
        /// Resume an interrupted, paused, stopped or cancelled bulk push
        /// (its id from `pushes`): every router of it that has not
        /// succeeded is pushed, in the original order and waves.
        #[arg(long, value_name = "BATCH")]
        resume: Option<String>,
        #[arg(long, env = "FLEETDECK_STORE", hide_env_values = true)]
        store: Option<String>,
        /// Routers pushed at once.
        #[arg(long, default_value_t = 32)]
        concurrency: usize,
        /// Cumulative waves: a count of routers or a percentage.
        #[arg(long, default_value = "1,10%,100%")]
        waves: String,
        /// Stop after this many routers fail (0: never stop).
        #[arg(long, default_value_t = 1)]
        stop_after: usize,
        /// Minutes before the router restores its backup unless confirmed.
        #[arg(long, default_value_t = 10)]
        confirm_within: u64,
        /// Leave each router's safety net armed after it is verified, until
        /// `fleetdeck-cli confirm` removes it (the app's "I confirm"); without
        /// a confirmation the router restores its backup by itself.
        #[arg(long)]
        confirm_by_hand: bool,
        #[arg(long)]
        dry_run: bool,
        /// Send the rendered script as one upload-and-/import step instead
        /// of a plan: for scripts with logic (:if, loops, variables) the plan
        /// refuses. The router runs it as it is: not idempotent, checked
        /// beforehand only on RouterOS 7.16+ (dry-run), not verifiable by
        /// reading back; the backup and safety net still apply.
        #[arg(long)]
        import: bool,
        #[arg(long)]
        json: bool,
    },
    /// What a push of a template would do to one router: the rendered
    /// script (secrets masked), the plan, each step's decision on the
    /// router's current state, and a diff against its export. Writes
    /// nothing to the router.
    Preview {
        #[command(flatten)]
        login: Login,
        #[arg(long)]
        template: std::path::PathBuf,
        /// Placeholder values, JSON or TOML.
        #[arg(long)]
        values: std::path::PathBuf,
        /// Send the rendered script as one upload-and-/import step instead
        /// of a plan: for scripts with logic (:if, loops, variables) the plan
        /// refuses. The router runs it as it is: not idempotent, checked
        /// beforehand only on RouterOS 7.16+ (dry-run), not verifiable by
        /// reading back; the backup and safety net still apply.
        #[arg(long)]
        import: bool,
        /// Where the router's site is looked up for `site.*` values
        /// (default: the embedded store in the data folder).
        #[arg(long, env = "FLEETDECK_STORE", hide_env_values = true)]
        store: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Bulk pushes in the store, newest first. Batches whose heartbeat
    /// stopped (the app or CLI was closed mid-push) are marked interrupted
    /// first, with the routers that were mid-push.
    Pushes {
        #[arg(long, env = "FLEETDECK_STORE", hide_env_values = true)]
        store: Option<String>,
        /// Show this batch's routers.
        #[arg(long, value_name = "BATCH")]
        batch: Option<String>,
        #[arg(long, default_value_t = 20)]
        limit: u32,
        #[arg(long)]
        json: bool,
    },
    /// Confirm an unconfirmed push on a router by hand: removes its safety
    /// scheduler so the router keeps its current configuration. Without
    /// --scheduler, lists the unconfirmed pushes.
    Confirm {
        #[command(flatten)]
        login: Login,
        #[arg(long, value_name = "NAME")]
        scheduler: Option<String>,
        /// Where the push record is marked confirmed and the confirmation
        /// audited (default: the embedded store in the data folder).
        #[arg(long, env = "FLEETDECK_STORE", hide_env_values = true)]
        store: Option<String>,
    },
    /// Compile a RouterOS script (e.g. a rendered template) into the plan a
    /// push would run, or say which line cannot be compiled and why.
    Plan {
        file: std::path::PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Check a template, or render it with values.
    Template {
        #[command(subcommand)]
        action: TemplateCmd,
    },
    /// Add routers to the inventory (what the app's Import does): FILE has
    /// one host[:port] a line, or is an inventory CSV with a header
    /// (host,port,username,site,tags). With --password-env, that password
    /// is kept in the credential store for every router added.
    Import {
        file: std::path::PathBuf,
        /// API user for rows that name none.
        #[arg(long, default_value = "admin")]
        user: String,
        /// The environment variable holding the routers' password.
        #[arg(long, value_name = "VAR")]
        password_env: Option<String>,
        #[arg(long, env = "FLEETDECK_STORE", hide_env_values = true)]
        store: Option<String>,
    },
    /// Back up routers' configurations: each router's export, kept as a
    /// new version when it changed (attributed to the Fleetdeck push that
    /// changed it, or flagged as drift). Exits 1 when a router failed.
    Backup {
        /// Only this router (inventory id; repeatable); default: every router.
        #[arg(long = "device", value_name = "ID")]
        devices: Vec<String>,
        /// sqlite://PATH or mysql://USER@HOST:PORT/DB; default: the embedded store.
        #[arg(long, env = "FLEETDECK_STORE", hide_env_values = true)]
        store: Option<String>,
        /// Routers backed up at once.
        #[arg(long, default_value_t = 16)]
        concurrency: usize,
        /// How long one router may take.
        #[arg(long, default_value = "120s")]
        deadline: String,
        /// Only the routers due under the backup schedule in the settings
        /// (daily unless set otherwise): for cron.
        #[arg(long, conflicts_with = "devices")]
        due: bool,
        #[arg(long)]
        json: bool,
    },
    /// A router's configuration history: versions, their text, diffs.
    Config {
        #[command(subcommand)]
        action: ConfigCmd,
    },
    /// Live traffic of one interface (/interface/monitor-traffic), until
    /// --duration or Ctrl-C; the command is cancelled on the router.
    Watch {
        #[command(flatten)]
        login: Login,
        #[arg(long, default_value = "ether1")]
        interface: String,
        #[arg(long)]
        duration: Option<String>,
    },
}

#[derive(Subcommand)]
pub(crate) enum ConfigCmd {
    /// The router's versions, newest first.
    Log {
        #[arg(long)]
        device: String,
        #[arg(long, default_value_t = 50)]
        limit: u32,
        #[arg(long, env = "FLEETDECK_STORE", hide_env_values = true)]
        store: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// A version's normalised text (the newest without --version).
    Show {
        #[arg(long)]
        device: String,
        /// A version id (or its first 8 characters or more).
        #[arg(long)]
        version: Option<String>,
        /// The export with its secrets, opened from its sealed copy (only
        /// on the machine that sealed it). Mind where the output goes.
        #[arg(long, conflicts_with = "json")]
        sensitive: bool,
        #[arg(long, env = "FLEETDECK_STORE", hide_env_values = true)]
        store: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Lines of every router's newest configuration holding TEXT
    /// (case-insensitive), e.g. "/ip service set api" or "address=0.0.0.0/0".
    Search {
        text: String,
        #[arg(long, default_value_t = 200)]
        limit: u32,
        #[arg(long, env = "FLEETDECK_STORE", hide_env_values = true)]
        store: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Converge the router to VERSION: without --yes, show what would
    /// change (the router now against the version, and what is removed);
    /// with it, push that through the safety net and compare after.
    Restore {
        #[arg(long)]
        device: String,
        version: String,
        /// Push the restore (without: preview only).
        #[arg(long)]
        yes: bool,
        /// Minutes before the safety net restores the pre-restore backup,
        /// unless the restore is confirmed.
        #[arg(long, default_value_t = 10)]
        confirm_within: u64,
        /// Leave the safety net armed until confirmed with `confirm`.
        #[arg(long)]
        manual_confirm: bool,
        #[arg(long, env = "FLEETDECK_STORE", hide_env_values = true)]
        store: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Every router (or those given) against the compliance rules for it,
    /// over its newest backup (no network needed). Fails when a rule is
    /// broken or a router has no backup to check.
    Check {
        #[arg(long = "device")]
        devices: Vec<String>,
        #[arg(long, env = "FLEETDECK_STORE", hide_env_values = true)]
        store: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Compliance rules: list, add, switch off.
    Rule {
        #[command(subcommand)]
        action: RuleCmd,
    },
    /// FROM against TO, or against the router's live export without TO.
    Diff {
        #[arg(long)]
        device: String,
        from: String,
        to: Option<String>,
        #[arg(long, env = "FLEETDECK_STORE", hide_env_values = true)]
        store: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
pub(crate) enum RuleCmd {
    /// The rules, with their scope and whether they are on.
    List {
        #[arg(long, env = "FLEETDECK_STORE", hide_env_values = true)]
        store: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Adds a rule (or replaces the one with this name). One of
    /// --must-contain, --must-not-contain, or --path/--property/--equals.
    Add {
        #[arg(long)]
        name: String,
        /// Routers with this tag only.
        #[arg(long, conflicts_with = "site")]
        tag: Option<String>,
        /// Routers of this site (its id) only.
        #[arg(long)]
        site: Option<String>,
        #[arg(long, group = "check")]
        must_contain: Option<String>,
        #[arg(long, group = "check")]
        must_not_contain: Option<String>,
        /// The menu, e.g. "/ip service".
        #[arg(long, group = "check", requires = "property")]
        path: Option<String>,
        /// The item: its name (api) or a property=value that finds it
        /// (default-name=ether1); none for a menu of settings.
        #[arg(long, default_value = "")]
        item: String,
        #[arg(long, requires = "path")]
        property: Option<String>,
        /// The value the property must have ("" for its default).
        #[arg(long, requires = "path", default_value = "")]
        equals: String,
        #[arg(long, env = "FLEETDECK_STORE", hide_env_values = true)]
        store: Option<String>,
    },
    /// Switches a rule off (kept, and synced, but not checked) or on.
    Disable {
        name: String,
        /// Switch it back on.
        #[arg(long)]
        enable: bool,
        #[arg(long, env = "FLEETDECK_STORE", hide_env_values = true)]
        store: Option<String>,
    },
}

#[derive(Subcommand)]
pub(crate) enum TemplateCmd {
    /// Check placeholders and types; list the values the template needs.
    Check { file: std::path::PathBuf },
    /// Print the rendered script. Values: a JSON or TOML file (by
    /// extension), keys named as the placeholders. Secrets are printed, so
    /// mind where the output goes; --preview masks them.
    Render {
        file: std::path::PathBuf,
        #[arg(long)]
        values: std::path::PathBuf,
        #[arg(long)]
        preview: bool,
    },
}

#[derive(Subcommand)]
pub(crate) enum StoreCmd {
    /// Create or upgrade the schema, then print the store and its schema.
    Migrate {
        /// sqlite://PATH or mysql://USER@HOST:PORT/DB; default: the embedded store.
        #[arg(long, env = "FLEETDECK_STORE", hide_env_values = true)]
        store: Option<String>,
    },
    /// Row counts per table.
    Stats {
        #[arg(long, env = "FLEETDECK_STORE", hide_env_values = true)]
        store: Option<String>,
        /// One JSON object instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Print the schema (DDL) a dialect gets: sqlite, mysql or singlestore.
    Ddl {
        #[arg(long)]
        dialect: fleet_store::Dialect,
    },
    /// Fill a store with a realistic synthetic fleet (sites, versions,
    /// boards, diurnal load) for benchmarks and demos. Deterministic per
    /// seed: re-running adds nothing twice.
    Generate {
        #[arg(long, env = "FLEETDECK_STORE", hide_env_values = true)]
        store: Option<String>,
        #[arg(long)]
        devices: u32,
        #[arg(long)]
        checkins_per_device: u32,
        /// Time between two check-ins of a router.
        #[arg(long, default_value = "5m")]
        interval: String,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long)]
        json: bool,
    },
    /// The fleet overview's figures: state counts, versions, CPU bands,
    /// busiest routers, memory and storage pressure, check-ins per hour.
    Dashboard {
        #[arg(long, env = "FLEETDECK_STORE", hide_env_values = true)]
        store: Option<String>,
        /// Poll interval the health thresholds follow.
        #[arg(long, default_value = "30s")]
        interval: String,
        /// Check-ins per hour over this window.
        #[arg(long, default_value = "24h")]
        window: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args)]
pub(crate) struct Login {
    /// An inventory router by id, reached as the inventory keeps it: its
    /// address, user, keyring password, transport and pinned certificate
    /// (as the app's commands reach it).
    #[arg(long, conflicts_with_all = ["host", "port", "tls", "fingerprint", "tls_anonymous", "password_env"])]
    pub(crate) device: Option<String>,
    /// Router address.
    #[arg(long)]
    host: Option<String>,
    /// API port (default 8728, or 8729 with --tls, --fingerprint or
    /// --tls-anonymous).
    #[arg(long)]
    port: Option<u16>,
    /// Use API-SSL. Without --fingerprint the router's certificate is
    /// trusted this once and its fingerprint printed, for pinning.
    #[arg(long)]
    tls: bool,
    /// The SHA-256 fingerprint of the router's certificate (implies --tls);
    /// any other certificate is refused.
    #[arg(long, value_name = "SHA256")]
    fingerprint: Option<String>,
    /// API-SSL to a router that has no certificate yet: anonymous
    /// Diffie-Hellman (implies TLS). This does NOT authenticate the router:
    /// anyone in the path can impersonate it and read the password. Use it
    /// only to bootstrap, e.g. to install a certificate, then use
    /// --tls / --fingerprint.
    #[arg(long, conflicts_with = "fingerprint")]
    tls_anonymous: bool,
    /// API user.
    #[arg(long, default_value = "admin")]
    pub(crate) user: String,
    /// Name of the environment variable holding the password (never pass
    /// passwords as arguments: they end up in shell history and `ps`).
    /// Without it the password is empty, as on a factory-default router.
    #[arg(long, value_name = "VAR")]
    pub(crate) password_env: Option<String>,
    /// Seconds to wait for each step (connect, login, each command).
    #[arg(long, default_value_t = 10)]
    pub(crate) timeout: u64,
}

impl Login {
    pub(crate) fn password(&self) -> anyhow::Result<Sensitive<String>> {
        match &self.password_env {
            None => Ok(Sensitive::new(String::new())),
            Some(var) => std::env::var(var).map(Sensitive::new).with_context(|| {
                format!("environment variable {var} (from --password-env) is not set")
            }),
        }
    }

    pub(crate) fn tls_mode(&self) -> anyhow::Result<TlsMode> {
        if self.tls_anonymous {
            return Ok(TlsMode::AnonymousDh);
        }
        Ok(match (&self.fingerprint, self.tls) {
            (Some(fp), _) => {
                TlsMode::Pinned(fp.parse::<Fingerprint>().map_err(anyhow::Error::msg)?)
            }
            (None, true) => TlsMode::TrustOnFirstUse,
            (None, false) => TlsMode::Plain,
        })
    }

    pub(crate) fn host(&self) -> anyhow::Result<&str> {
        self.host
            .as_deref()
            .context("name the router with --host (or several with --targets for poll)")
    }

    pub(crate) fn api_port(&self) -> u16 {
        let tls = self.tls || self.tls_anonymous || self.fingerprint.is_some();
        self.port.unwrap_or(if tls { 8729 } else { 8728 })
    }

    pub(crate) fn options(&self) -> anyhow::Result<ConnectOptions> {
        let mut o = ConnectOptions::new(
            self.host()?,
            self.api_port(),
            &self.user,
            self.password()?.expose().clone(),
        );
        o.tls = self.tls_mode()?;
        let t = Duration::from_secs(self.timeout.max(1));
        o.connect_timeout = t;
        o.login_timeout = t;
        o.command_timeout = t;
        Ok(o)
    }
}
