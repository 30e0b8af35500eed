//! The `ros` command: raw RouterOS API commands printed as JSON lines, and
//! the router connection and streaming helpers other commands share.

use std::{process::ExitCode, time::Duration};

use anyhow::{bail, Context};
use fleet_core::Fleet;
use routeros::{Client, Command, Reply, TlsMode};

use crate::args::Login;

/// The `ros` command: runs the commands pipelined, or with `follow` streams
/// the first one's rows.
pub(crate) async fn ros_cmd(
    login: &Login,
    proplist: &[String],
    query: &[String],
    follow: bool,
    duration: Option<String>,
    words: &[String],
) -> anyhow::Result<ExitCode> {
    let commands = build_commands(words, proplist, query)?;
    if follow {
        let limit =
            match duration {
                Some(d) => Some(routeros_proto::value::parse_duration(&d).with_context(|| {
                    format!("--duration {d:?} is not a duration like 30s or 5m")
                })?),
                None => None,
            };
        follow_rows(login, &commands[0], limit).await
    } else {
        ros(login, &commands).await
    }
}

/// Splits `-- cmd words -- cmd words` into commands, adding the shared
/// --proplist and --query words to each.
fn build_commands(
    words: &[String],
    proplist: &[String],
    query: &[String],
) -> anyhow::Result<Vec<Command>> {
    let mut commands = Vec::new();
    for group in words.split(|w| w == "--").filter(|g| !g.is_empty()) {
        let (path, rest) = group.split_first().expect("non-empty group");
        let mut cmd = rest
            .iter()
            .fold(Command::new(path.as_str()), |c, w| c.word(w.as_bytes()));
        for q in query {
            cmd = cmd.word(q.as_bytes());
        }
        if !proplist.is_empty() {
            cmd = cmd.proplist(proplist);
        }
        commands.push(cmd);
    }
    if commands.is_empty() {
        bail!("give a command after --, for example -- /system/resource/print");
    }
    Ok(commands)
}

pub(crate) async fn connect(login: &Login) -> anyhow::Result<Client> {
    let client = Client::connect(&login.options()?).await?;
    if let (TlsMode::TrustOnFirstUse, Some(fp)) = (login.tls_mode()?, client.peer_fingerprint()) {
        eprintln!("router certificate fingerprint: {fp}\n(pass --fingerprint {fp} to refuse any other certificate from now on)");
    }
    Ok(client)
}

/// A session with the router `login` names and its inventory id: with
/// `--device`, reached as the inventory keeps it ([`Fleet::connect`]);
/// by address, as the flags say (and looked up in the inventory).
pub(crate) async fn session(
    login: &Login,
    fleet: &Fleet,
) -> anyhow::Result<(Client, Option<String>)> {
    if let Some(id) = &login.device {
        return Ok((fleet.connect(id).await?, Some(id.clone())));
    }
    let client = connect(login).await?;
    let device = fleet
        .store()
        .find_device(login.host()?, login.api_port())
        .await?;
    Ok((client, device.map(|d| d.id)))
}

/// The fleet in the store at `url` (default: the embedded store), its
/// polls and sessions under the login's timeout.
pub(crate) async fn open_fleet(url: Option<&str>, login: &Login) -> anyhow::Result<Fleet> {
    let mut fleet = match url {
        Some(u) => Fleet::open(&u.parse::<fleet_core::StoreUrl>()?).await?,
        None => Fleet::open_default().await?,
    };
    fleet.poll_timeout = std::time::Duration::from_secs(login.timeout.max(1));
    Ok(fleet)
}

async fn ros(login: &Login, commands: &[Command]) -> anyhow::Result<ExitCode> {
    let client = connect(login).await?;
    // Pipelined: every command is on the wire before the first answer.
    let results = futures::future::join_all(commands.iter().map(|c| client.execute(c))).await;
    let mut trapped = false;
    for (cmd, result) in commands.iter().zip(results) {
        let replies = result?;
        for r in &replies {
            let mut line = reply_json(r);
            if commands.len() > 1 {
                line["command"] = cmd.path().into();
            }
            println!("{line}");
        }
        if let Some(m) = replies
            .iter()
            .find(|r| r.kind == routeros::ReplyKind::Trap)
            .map(|r| r.message().unwrap_or_default())
        {
            trapped = true;
            eprintln!("error: the router rejected {}: {m}", cmd.path());
        }
    }
    Ok(if trapped {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

/// Streams one command's rows until the limit or Ctrl-C; dropping the
/// stream sends `/cancel`.
async fn follow_rows(
    login: &Login,
    cmd: &Command,
    limit: Option<Duration>,
) -> anyhow::Result<ExitCode> {
    let cmd = if cmd.path().ends_with("/print") {
        cmd.clone().attr("follow", "")
    } else {
        cmd.clone()
    };
    let client = connect(login).await?;
    let stream = client.stream(&cmd).await?;
    print_stream(&client, Box::pin(stream), limit, |row: routeros::Row| {
        let attrs: serde_json::Map<String, serde_json::Value> = row
            .iter()
            .map(|(k, v)| (k.to_owned(), String::from_utf8_lossy(v).into_owned().into()))
            .collect();
        println!(
            "{}",
            serde_json::json!({"reply": "!re", "attributes": attrs})
        );
        Ok(())
    })
    .await
}

/// Prints a router stream's items until `limit` or Ctrl-C, then drops the
/// stream (which sends `/cancel`) and gives the cancel a moment to reach
/// the router before the process ends.
pub(crate) async fn print_stream<T, E: Into<anyhow::Error>>(
    client: &Client,
    mut stream: std::pin::Pin<Box<dyn futures::Stream<Item = Result<T, E>> + Send + '_>>,
    limit: Option<Duration>,
    mut print: impl FnMut(T) -> anyhow::Result<()>,
) -> anyhow::Result<ExitCode> {
    use futures::StreamExt;
    let stop = async {
        match limit {
            Some(d) => tokio::time::sleep(d).await,
            None => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    };
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = &mut stop => break,
            item = stream.next() => match item {
                None => break,
                Some(Err(e)) => return Err(e.into()),
                Some(Ok(item)) => print(item)?,
            }
        }
    }
    drop(stream);
    let _ = tokio::time::timeout(
        Duration::from_millis(500),
        client.run(&Command::new("/system/identity/print")),
    )
    .await;
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
