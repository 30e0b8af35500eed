//! `fleetdeck-cli`: Fleetdeck's operations from a terminal, for scripts,
//! benchmarks and technicians without the desktop app.

use std::{process::ExitCode, time::Duration};

use anyhow::{bail, Context};
use clap::{Args, Parser, Subcommand};
use fleet_core::{credentials::Sensitive, Fleet, StoreUrl};
use routeros::{Client, Command, ConnectOptions, Reply};

#[derive(Parser)]
#[command(
    name = "fleetdeck-cli",
    version,
    about = "Fleetdeck from a terminal: MikroTik RouterOS fleet operations"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run RouterOS API commands and print every reply sentence as a JSON line.
    ///
    /// Example: fleetdeck-cli ros --host 192.168.88.1 --user admin -- /interface/print ?type=ether
    Ros {
        #[command(flatten)]
        login: Login,
        /// The command path and its words (=name=value, ?query, .proplist=a,b).
        #[arg(last = true, required = true, value_name = "COMMAND")]
        words: Vec<String>,
    },
    /// Poll a router once and store the check-in.
    Poll {
        #[command(flatten)]
        login: Login,
        /// sqlite://PATH or mysql://USER@HOST:PORT/DB; default: the embedded store.
        #[arg(long, env = "FLEETDECK_STORE")]
        store: Option<String>,
    },
}

#[derive(Args)]
struct Login {
    /// Router address.
    #[arg(long)]
    host: String,
    /// API port (8728; API-SSL is 8729).
    #[arg(long, default_value_t = 8728)]
    port: u16,
    /// API user.
    #[arg(long, default_value = "admin")]
    user: String,
    /// Name of the environment variable holding the password (never pass
    /// passwords as arguments: they end up in shell history and `ps`).
    /// Without it the password is empty, as on a factory-default router.
    #[arg(long, value_name = "VAR")]
    password_env: Option<String>,
    /// Seconds to wait for each step (connect, login, each command).
    #[arg(long, default_value_t = 10)]
    timeout: u64,
}

impl Login {
    fn password(&self) -> anyhow::Result<Sensitive<String>> {
        match &self.password_env {
            None => Ok(Sensitive::new(String::new())),
            Some(var) => std::env::var(var).map(Sensitive::new).with_context(|| {
                format!("environment variable {var} (from --password-env) is not set")
            }),
        }
    }

    fn options(&self) -> anyhow::Result<ConnectOptions> {
        let mut o = ConnectOptions::new(
            &self.host,
            self.port,
            &self.user,
            self.password()?.expose().clone(),
        );
        let t = Duration::from_secs(self.timeout.max(1));
        o.connect_timeout = t;
        o.login_timeout = t;
        o.command_timeout = t;
        Ok(o)
    }
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Cmd::Ros { login, words } => ros(&login, &words).await,
        Cmd::Poll { login, store } => poll(&login, store.as_deref()).await,
    }
}

async fn ros(login: &Login, words: &[String]) -> anyhow::Result<ExitCode> {
    let Some((path, rest)) = words.split_first() else {
        bail!("give a command after --, for example -- /system/resource/print");
    };
    let cmd = rest
        .iter()
        .fold(Command::new(path.as_str()), |c, w| c.word(w.as_bytes()));
    let client = Client::connect(&login.options()?).await?;
    let replies = client.execute(&cmd).await?;
    let mut trapped = false;
    for r in &replies {
        trapped |= r.kind == routeros::ReplyKind::Trap;
        println!("{}", reply_json(r));
    }
    if trapped {
        if let Some(m) = replies.iter().find_map(|r| {
            (r.kind == routeros::ReplyKind::Trap)
                .then(|| r.message())
                .flatten()
        }) {
            eprintln!("error: the router rejected {path}: {m}");
        }
        return Ok(ExitCode::from(2));
    }
    Ok(ExitCode::SUCCESS)
}

/// `{"reply":"!re","attributes":{...}}`; `.tag` is the client's own and left out.
fn reply_json(r: &Reply) -> serde_json::Value {
    let mut attrs = serde_json::Map::new();
    for a in r.data() {
        attrs.insert(
            String::from_utf8_lossy(a.name).into_owned(),
            String::from_utf8_lossy(a.value).into_owned().into(),
        );
    }
    let mut obj = serde_json::Map::new();
    obj.insert(
        "reply".into(),
        String::from_utf8_lossy(r.sentence.first_word().unwrap_or_default())
            .into_owned()
            .into(),
    );
    obj.insert("attributes".into(), attrs.into());
    if let Some(m) = r.message().filter(|_| r.attribute("message").is_none()) {
        obj.insert("message".into(), m.into());
    }
    obj.into()
}

async fn poll(login: &Login, store: Option<&str>) -> anyhow::Result<ExitCode> {
    let mut fleet = match store {
        Some(url) => Fleet::open(&url.parse::<StoreUrl>()?).await?,
        None => Fleet::open_default().await?,
    };
    fleet.poll_timeout = Duration::from_secs(login.timeout.max(1));
    let checkin = fleet
        .poll_address(&login.host, login.port, &login.user, &login.password()?)
        .await?;
    println!("{}", serde_json::to_string(&checkin)?);
    eprintln!(
        "stored check-in of {} ({}:{}) in {}",
        checkin.identity,
        login.host,
        login.port,
        fleet.store().location()
    );
    Ok(ExitCode::SUCCESS)
}
