//! Getting configuration text out of a router and pushing script into it.
//!
//! Over the binary API a plain `/export` returns nothing (ROUTEROS.md
//! §1.10), so the text is fetched the way each version allows: `/execute
//! =as-string=` on 7.x, or `/export =file=` and reading the file back with
//! `/file/read` (7.13+) or the inline `contents` (older). Scripts are pushed
//! by uploading a file and running `/import` on it, as a dry run first
//! where the router supports one (7.16+).

use std::time::Duration;

use routeros_proto::Query;

use crate::{Client, Command, Error};

/// A RouterOS version, as far as feature checks need it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version(pub u32, pub u32, pub u32);

/// Most bytes read back from one file on the router: a hostile router
/// answering every chunk in full cannot grow a read without bound.
pub const MAX_FILE_BYTES: usize = 64 << 20;

impl Version {
    /// Reads `7.16.2 (stable)`, `6.49.7 (long-term)`, `7.1beta4`.
    pub fn parse(text: &str) -> Option<Version> {
        let token = text.split_whitespace().next()?;
        let mut nums = token
            .split(|c: char| !c.is_ascii_digit())
            .filter(|s| !s.is_empty())
            .map(|s| s.parse::<u32>().ok());
        Some(Version(
            nums.next()??,
            nums.next().flatten().unwrap_or(0),
            nums.next().flatten().unwrap_or(0),
        ))
    }
}

/// How to fetch the export text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportMethod {
    /// The best the router's version offers.
    Auto,
    /// `/execute =script=/export =as-string=` (7.x).
    AsString,
    /// `/export =file=`, then `/file/read` in 32 KiB chunks (7.13+).
    FileRead,
    /// `/export =file=`, then the inline `contents` (small files only).
    InlineContents,
}

const EXPORT_FILE: &str = "fleetdeck-export";
const CHUNK: usize = 32_768;

impl Client {
    /// The router's RouterOS version.
    pub async fn version(&self) -> Result<Version, Error> {
        let r = self
            .run(&Command::new("/system/resource/print").proplist(["version"]))
            .await?;
        let text = r
            .first()
            .and_then(|row| row.get("version"))
            .unwrap_or_default();
        Version::parse(&text).ok_or_else(|| Error::Trap {
            command: "/system/resource/print".into(),
            category: None,
            message: format!("unreadable RouterOS version {text:?}"),
            more: Vec::new(),
        })
    }

    /// The running configuration as `/export` text, secrets hidden.
    pub async fn export_text(&self, method: ExportMethod) -> Result<Vec<u8>, Error> {
        self.export_with(method, false).await
    }

    /// The running configuration with its secrets (`show-sensitive` on
    /// 7.x; 6.x prints them unless told to hide them). Keep it sealed.
    pub async fn export_sensitive(&self) -> Result<Vec<u8>, Error> {
        self.export_with(ExportMethod::Auto, true).await
    }

    async fn export_with(&self, method: ExportMethod, sensitive: bool) -> Result<Vec<u8>, Error> {
        let method = match method {
            ExportMethod::Auto => {
                let v = self.version().await?;
                if v >= Version(7, 0, 0) {
                    ExportMethod::AsString
                } else {
                    ExportMethod::InlineContents
                }
            }
            m => m,
        };
        if method == ExportMethod::AsString {
            let script = if sensitive {
                "/export show-sensitive"
            } else {
                "/export"
            };
            let r = self
                .run(
                    &Command::new("/execute")
                        .attr("script", script)
                        .attr("as-string", ""),
                )
                .await?;
            return Ok(r.done.get_bytes("ret").unwrap_or_default().to_vec());
        }
        // RouterOS 7 hides sensitive values by default; 6 needs asking.
        let mut export = Command::new("/export").attr("file", EXPORT_FILE);
        if method == ExportMethod::InlineContents && !sensitive {
            export = export.attr("hide-sensitive", "");
        }
        if method == ExportMethod::FileRead && sensitive {
            export = export.attr("show-sensitive", "");
        }
        self.run(&export).await?;
        let file = format!("{EXPORT_FILE}.rsc");
        let text = self
            .read_file(&file, method == ExportMethod::FileRead)
            .await;
        let _ = self
            .run(&Command::new("/file/remove").attr("numbers", &file))
            .await;
        text
    }

    /// A file's contents (at most [`MAX_FILE_BYTES`]). A freshly written export may take a moment to
    /// appear, so a missing file is retried a few times.
    pub async fn read_file(&self, name: &str, chunked: bool) -> Result<Vec<u8>, Error> {
        let mut attempt = 0;
        loop {
            let found = self
                .run(
                    &Command::new("/file/print")
                        .query(&Query::eq("name", name))
                        .proplist(["name", "size", "contents"]),
                )
                .await?;
            if let Some(row) = found.first() {
                if !chunked {
                    return row
                        .get_bytes("contents")
                        .map(<[u8]>::to_vec)
                        .ok_or_else(|| Error::Trap {
                            command: "/file/print".into(),
                            category: None,
                            message: format!(
                                "{name} is too large to read inline on this RouterOS version"
                            ),
                            more: Vec::new(),
                        });
                }
                let mut out = Vec::new();
                loop {
                    let r = self
                        .run(
                            &Command::new("/file/read")
                                .attr("file", name)
                                .attr("offset", out.len().to_string())
                                .attr("chunk-size", CHUNK.to_string()),
                        )
                        .await?;
                    let data = r
                        .first()
                        .and_then(|row| row.get_bytes("data"))
                        .unwrap_or_default();
                    out.extend_from_slice(data);
                    if data.len() < CHUNK {
                        return Ok(out);
                    }
                    if out.len() > MAX_FILE_BYTES {
                        return Err(Error::Overloaded {
                            addr: self.addr().to_owned(),
                            command: "/file/read".into(),
                            what: format!(
                                "sent more than {} MiB for {name}, more than any export holds",
                                MAX_FILE_BYTES >> 20
                            ),
                        });
                    }
                }
            }
            attempt += 1;
            if attempt >= 5 {
                return Err(Error::Trap {
                    command: "/file/print".into(),
                    category: Some(0),
                    message: format!("no file named {name} on the router"),
                    more: Vec::new(),
                });
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Uploads a file, replacing one of the same name.
    pub async fn upload_file(&self, name: &str, contents: &[u8]) -> Result<(), Error> {
        let _ = self
            .run(&Command::new("/file/remove").attr("numbers", name))
            .await;
        self.run(
            &Command::new("/file/add")
                .attr("name", name)
                .attr("contents", contents),
        )
        .await?;
        Ok(())
    }

    /// Runs `/import` on an uploaded file and returns the router's words.
    /// A failing line comes back as [`Error::Trap`] with the line number.
    pub async fn import_file(&self, name: &str, dry_run: bool) -> Result<String, Error> {
        let mut cmd = Command::new("/import")
            .attr("file-name", name)
            .attr("verbose", "yes");
        if dry_run {
            cmd = cmd.attr("dry-run", "");
        }
        let r = self.run(&cmd).await?;
        Ok(r.done
            .get("ret")
            .map(|s| s.into_owned())
            .unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        assert_eq!(Version::parse("7.16.2 (stable)"), Some(Version(7, 16, 2)));
        assert_eq!(
            Version::parse("6.49.7 (long-term)"),
            Some(Version(6, 49, 7))
        );
        assert_eq!(
            Version::parse("7.1beta4 (development)"),
            Some(Version(7, 1, 4))
        );
        assert_eq!(Version::parse("7.18"), Some(Version(7, 18, 0)));
        assert!(Version(7, 13, 0) > Version(7, 9, 9));
        assert_eq!(Version::parse(""), None);
    }
}
