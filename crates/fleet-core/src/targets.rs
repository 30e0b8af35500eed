//! Which routers to poll: a file (one `host[:port]` a line, or the
//! inventory CSV with a header), `HOST:PORT+N` for N routers on
//! consecutive ports (the simulator's layout), or `HOST[:PORT][,…]` inline.

use crate::FleetError;

/// One router named by the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetSpec {
    pub host: String,
    pub port: u16,
    pub username: Option<String>,
    pub site: Option<String>,
    pub tags: Vec<String>,
    /// `api`, `api-ssl` or `api-ssl-anonymous` (inventory CSV only).
    pub transport: Option<fleet_store::Transport>,
    /// SHA-256 of the router's certificate, to pin.
    pub fingerprint: Option<String>,
}

impl TargetSpec {
    fn new(host: &str, port: u16) -> Self {
        Self {
            host: host.to_owned(),
            port,
            username: None,
            site: None,
            tags: Vec::new(),
            transport: None,
            fingerprint: None,
        }
    }
}

const API_PORT: u16 = 8728;

/// Parses `--targets`: `HOST:PORT+N`, `HOST[:PORT][,…]`, or the path of a file.
pub fn parse(spec: &str) -> Result<Vec<TargetSpec>, FleetError> {
    if let Some((addr, n)) = spec.rsplit_once('+') {
        if let (Ok(n), Ok((host, port))) = (n.parse::<u32>(), split_addr(addr, 1)) {
            if u32::from(port) + n > 65_536 || n == 0 {
                return Err(FleetError::InvalidInput(format!(
                    "{spec:?}: {n} routers from port {port} do not fit below port 65536"
                )));
            }
            return Ok((0..n)
                .map(|i| TargetSpec::new(&host, port + i as u16))
                .collect());
        }
    }
    // `10.0.0.1` or `10.0.0.1:8728,10.0.0.2`: routers named inline.
    if !spec.contains('/') && !std::path::Path::new(spec).exists() {
        if let Ok(list) = parse_text(&spec.replace(',', "\n")) {
            return Ok(list);
        }
    }
    let text = std::fs::read_to_string(spec).map_err(|e| {
        FleetError::InvalidInput(format!(
            "--targets {spec:?} is neither HOST[:PORT][,…], HOST:PORT+N nor a readable file: {e}"
        ))
    })?;
    parse_text(&text)
}

/// Parses a targets file: the inventory CSV when the first line is a
/// header naming `host`, otherwise one `host[:port]` a line. `#` starts a
/// comment.
pub fn parse_text(text: &str) -> Result<Vec<TargetSpec>, FleetError> {
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim().trim_start_matches('\u{feff}')))
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'))
        .peekable();
    let header = lines
        .peek()
        .map(|(_, l)| csv_fields(l))
        .filter(|f| f.iter().any(|c| c.eq_ignore_ascii_case("host")));
    let mut out = Vec::new();
    if let Some(header) = header {
        lines.next();
        let col = |name: &[&str]| {
            header
                .iter()
                .position(|h| name.iter().any(|n| h.eq_ignore_ascii_case(n)))
        };
        let (host, port, user, site, tags) = (
            col(&["host", "address"]),
            col(&["port"]),
            col(&["username", "user"]),
            col(&["site"]),
            col(&["tags"]),
        );
        let (transport, fingerprint) = (col(&["transport", "tls"]), col(&["fingerprint"]));
        let host = host.expect("header names host");
        for (no, line) in lines {
            let f = csv_fields(line);
            let get = |c: Option<usize>| {
                c.and_then(|c| f.get(c))
                    .map(|s| s.trim())
                    .filter(|s| !s.is_empty())
            };
            let h = get(Some(host)).ok_or_else(|| bad(no, line, "no host"))?;
            let (h, addr_port) = split_addr(h, API_PORT).map_err(|e| bad(no, line, &e))?;
            let port = match get(port) {
                Some(p) => p
                    .parse()
                    .map_err(|_| bad(no, line, &format!("port {p:?} is not a number")))?,
                None => addr_port,
            };
            out.push(TargetSpec {
                host: h,
                port,
                username: get(user).map(str::to_owned),
                site: get(site).map(str::to_owned),
                tags: get(tags)
                    .map(|t| t.split(';').map(|t| t.trim().to_owned()).collect())
                    .unwrap_or_default(),
                transport: match get(transport) {
                    None => None,
                    Some(t) => match fleet_store::Transport::parse(t) {
                        Ok(known) => Some(known),
                        Err(_) => {
                            return Err(bad(
                                no,
                                line,
                                &format!("transport {t:?}: use api, api-ssl or api-ssl-anonymous"),
                            ))
                        }
                    },
                },
                fingerprint: get(fingerprint).map(str::to_owned),
            });
        }
    } else {
        for (no, line) in lines {
            let (h, p) = split_addr(line, API_PORT).map_err(|e| bad(no, line, &e))?;
            out.push(TargetSpec::new(&h, p));
        }
    }
    Ok(out)
}

fn bad(line_no: usize, line: &str, why: &str) -> FleetError {
    FleetError::InvalidInput(format!("targets line {line_no} ({line:?}): {why}"))
}

/// `host`, `host:port`, `[v6]:port` or a bare IPv6 address.
fn split_addr(s: &str, default_port: u16) -> Result<(String, u16), String> {
    let s = s.trim();
    let (host, port) = if let Some(rest) = s.strip_prefix('[') {
        let (h, p) = rest.split_once(']').ok_or("unclosed [")?;
        (h, p.strip_prefix(':'))
    } else if s.matches(':').count() == 1 {
        let (h, p) = s.split_once(':').expect("one colon");
        (h, Some(p))
    } else {
        (s, None)
    };
    if host.is_empty() || host.contains(char::is_whitespace) {
        return Err(format!("{s:?} is not a router address"));
    }
    let port = match port {
        Some(p) => p
            .parse::<u16>()
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| format!("port {p:?} is not a port number"))?,
        None => default_port,
    };
    Ok((host.to_owned(), port))
}

/// Splits one CSV line; double quotes may wrap a field, `""` is a quote.
fn csv_fields(line: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                chars.next();
                out.last_mut().expect("one field").push('"');
            }
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(String::new()),
            c => out.last_mut().expect("one field").push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_port_range_names_consecutive_routers() {
        let t = parse("127.0.0.1:28728+3").unwrap();
        let ports: Vec<u16> = t.iter().map(|t| t.port).collect();
        assert_eq!(ports, vec![28728, 28729, 28730]);
        assert!(parse("127.0.0.1:65535+2").is_err());
    }

    #[test]
    fn plain_lists_and_inventory_csv() {
        let t =
            parse_text("# routers\n10.0.0.1\n10.0.0.2:8729\n[fe80::1]:8728\nfe80::2\n").unwrap();
        assert_eq!(
            t.iter()
                .map(|t| (t.host.as_str(), t.port))
                .collect::<Vec<_>>(),
            vec![
                ("10.0.0.1", 8728),
                ("10.0.0.2", 8729),
                ("fe80::1", 8728),
                ("fe80::2", 8728)
            ]
        );
        let csv = "\u{feff}host,port,username,site,tags\n10.1.0.1,8728,api,\"North, depot\",core;lte\n10.1.0.2,,,,\n";
        let t = parse_text(csv).unwrap();
        assert_eq!(t[0].site.as_deref(), Some("North, depot"));
        assert_eq!(t[0].tags, vec!["core", "lte"]);
        assert_eq!(t[0].username.as_deref(), Some("api"));
        assert_eq!((t[1].port, t[1].username.clone()), (8728, None));
        let t = parse_text("host,transport,fingerprint\n10.2.0.1,api-ssl,AB:CD\n").unwrap();
        assert_eq!(t[0].transport, Some(fleet_store::Transport::ApiSsl));
        assert_eq!(t[0].fingerprint.as_deref(), Some("AB:CD"));
        assert!(parse_text("host,transport\n10.2.0.1,telnet\n").is_err());
        let err = parse_text("host,port\n10.0.0.1,http\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("line 2") && err.contains("not a number"),
            "{err}"
        );
        assert!(parse("/no/such/file")
            .unwrap_err()
            .to_string()
            .contains("neither"));
    }
}
