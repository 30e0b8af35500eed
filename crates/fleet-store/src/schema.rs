//! Schema per dialect, as versioned migrations.
//!
//! Each dialect gets its own DDL for the same logical tables. A migration is
//! applied once and recorded in `schema_migrations`; a store whose schema is
//! newer than this build refuses to open rather than guess.

/// The SQL dialect a store speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    /// MySQL and MariaDB: portable DDL with foreign keys.
    Mysql,
    /// SingleStore: columnstore check-ins sharded by device, no foreign keys.
    SingleStore,
}

/// `(version, statements)`, in order.
pub type Migration = (i64, &'static [&'static str]);

pub fn migrations(dialect: Dialect) -> &'static [Migration] {
    match dialect {
        Dialect::Sqlite => SQLITE,
        Dialect::Mysql => MYSQL,
        Dialect::SingleStore => SINGLESTORE,
    }
}

impl std::str::FromStr for Dialect {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "sqlite" => Ok(Dialect::Sqlite),
            "mysql" | "mariadb" => Ok(Dialect::Mysql),
            "singlestore" | "memsql" => Ok(Dialect::SingleStore),
            other => Err(format!(
                "unknown dialect {other:?}: use sqlite, mysql or singlestore"
            )),
        }
    }
}

/// The tables every dialect creates, for row counts.
pub const TABLES: &[&str] = &["devices", "site_checkins"];

/// The whole schema a dialect gets, as SQL text: what `fleetdeck-cli store
/// ddl` prints for a DBA to review.
pub fn ddl(dialect: Dialect) -> String {
    let mut out = String::new();
    for (version, statements) in migrations(dialect) {
        out.push_str(&format!("-- migration {version}\n"));
        for s in *statements {
            out.push_str(s.trim());
            out.push_str(";\n\n");
        }
    }
    out
}

/// The newest schema version this build knows.
pub fn latest_version(dialect: Dialect) -> i64 {
    migrations(dialect).last().map(|m| m.0).unwrap_or(0)
}

const SQLITE: &[Migration] = &[(
    1,
    &[
        "CREATE TABLE devices (
            id TEXT PRIMARY KEY,
            host TEXT NOT NULL,
            port INTEGER NOT NULL,
            username TEXT NOT NULL,
            identity TEXT,
            board TEXT,
            version TEXT,
            serial TEXT,
            created_at INTEGER NOT NULL,
            last_checkin_at INTEGER,
            last_cpu_load REAL,
            last_polled_at INTEGER,
            last_error TEXT,
            UNIQUE (host, port)
        )",
        "CREATE TABLE site_checkins (
            id TEXT PRIMARY KEY,
            device_id TEXT NOT NULL REFERENCES devices(id),
            checked_in_at INTEGER NOT NULL,
            cpu_load INTEGER NOT NULL,
            cpu_count INTEGER NOT NULL,
            free_memory INTEGER NOT NULL,
            total_memory INTEGER NOT NULL,
            free_hdd INTEGER NOT NULL,
            total_hdd INTEGER NOT NULL,
            uptime_secs INTEGER NOT NULL,
            version TEXT NOT NULL,
            board_name TEXT NOT NULL,
            identity TEXT NOT NULL,
            rx_bytes INTEGER NOT NULL,
            tx_bytes INTEGER NOT NULL
        )",
        "CREATE INDEX site_checkins_device_time ON site_checkins (device_id, checked_in_at)",
    ],
)];

const MYSQL: &[Migration] = &[(
    1,
    &[
        "CREATE TABLE devices (
            id CHAR(36) NOT NULL PRIMARY KEY,
            host VARCHAR(255) NOT NULL,
            port INT NOT NULL,
            username VARCHAR(255) NOT NULL,
            identity VARCHAR(255) NULL,
            board VARCHAR(255) NULL,
            version VARCHAR(64) NULL,
            serial VARCHAR(64) NULL,
            created_at BIGINT NOT NULL,
            last_checkin_at BIGINT NULL,
            last_cpu_load DOUBLE NULL,
            last_polled_at BIGINT NULL,
            last_error TEXT NULL,
            UNIQUE KEY devices_address (host, port)
        ) DEFAULT CHARSET = utf8mb4",
        "CREATE TABLE site_checkins (
            id CHAR(36) NOT NULL PRIMARY KEY,
            device_id CHAR(36) NOT NULL,
            checked_in_at BIGINT NOT NULL,
            cpu_load INT NOT NULL,
            cpu_count INT NOT NULL,
            free_memory BIGINT NOT NULL,
            total_memory BIGINT NOT NULL,
            free_hdd BIGINT NOT NULL,
            total_hdd BIGINT NOT NULL,
            uptime_secs BIGINT NOT NULL,
            version VARCHAR(64) NOT NULL,
            board_name VARCHAR(255) NOT NULL,
            identity VARCHAR(255) NOT NULL,
            rx_bytes BIGINT NOT NULL,
            tx_bytes BIGINT NOT NULL,
            KEY site_checkins_device_time (device_id, checked_in_at),
            CONSTRAINT site_checkins_device FOREIGN KEY (device_id) REFERENCES devices (id)
        ) DEFAULT CHARSET = utf8mb4",
    ],
)];

const SINGLESTORE: &[Migration] = &[(
    1,
    &[
        "CREATE ROWSTORE REFERENCE TABLE devices (
            id CHAR(36) NOT NULL PRIMARY KEY,
            host VARCHAR(255) NOT NULL,
            port INT NOT NULL,
            username VARCHAR(255) NOT NULL,
            identity VARCHAR(255) NULL,
            board VARCHAR(255) NULL,
            version VARCHAR(64) NULL,
            serial VARCHAR(64) NULL,
            created_at BIGINT NOT NULL,
            last_checkin_at BIGINT NULL,
            last_cpu_load DOUBLE NULL,
            last_polled_at BIGINT NULL,
            last_error TEXT NULL,
            UNIQUE KEY devices_address (host, port)
        )",
        "CREATE TABLE site_checkins (
            id CHAR(36) NOT NULL,
            device_id CHAR(36) NOT NULL,
            checked_in_at BIGINT NOT NULL,
            cpu_load INT NOT NULL,
            cpu_count INT NOT NULL,
            free_memory BIGINT NOT NULL,
            total_memory BIGINT NOT NULL,
            free_hdd BIGINT NOT NULL,
            total_hdd BIGINT NOT NULL,
            uptime_secs BIGINT NOT NULL,
            version VARCHAR(64) NOT NULL,
            board_name VARCHAR(255) NOT NULL,
            identity VARCHAR(255) NOT NULL,
            rx_bytes BIGINT NOT NULL,
            tx_bytes BIGINT NOT NULL,
            SORT KEY (checked_in_at),
            SHARD KEY (device_id),
            UNIQUE KEY (device_id, id) USING HASH,
            KEY (device_id) USING HASH
        )",
    ],
)];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn singlestore_gets_its_native_schema() {
        let ddl = migrations(Dialect::SingleStore)
            .iter()
            .flat_map(|m| m.1.iter())
            .copied()
            .collect::<Vec<_>>()
            .join("\n");
        assert!(ddl.contains("SORT KEY (checked_in_at)"));
        assert!(ddl.contains("SHARD KEY (device_id)"));
        assert!(ddl.contains("CREATE ROWSTORE REFERENCE TABLE devices"));
        assert!(
            !ddl.contains("FOREIGN KEY"),
            "SingleStore has no foreign keys"
        );
        // Unique keys on a sharded table must contain the shard key.
        assert!(ddl.contains("UNIQUE KEY (device_id, id)"));
    }

    #[test]
    fn ddl_text_names_every_table_and_parses_dialects() {
        for d in [Dialect::Sqlite, Dialect::Mysql, Dialect::SingleStore] {
            let text = ddl(d);
            for t in TABLES {
                assert!(text.contains(&format!("TABLE {t} (")), "{d:?} lacks {t}");
            }
            assert_eq!(
                text.matches(";\n").count(),
                migrations(d).iter().map(|m| m.1.len()).sum::<usize>()
            );
        }
        assert_eq!("SingleStore".parse::<Dialect>(), Ok(Dialect::SingleStore));
        assert_eq!("mariadb".parse::<Dialect>(), Ok(Dialect::Mysql));
        assert!("postgres".parse::<Dialect>().is_err());
    }

    #[test]
    fn every_dialect_has_the_same_versions() {
        let versions = |d| migrations(d).iter().map(|m| m.0).collect::<Vec<_>>();
        assert_eq!(versions(Dialect::Sqlite), versions(Dialect::Mysql));
        assert_eq!(versions(Dialect::Mysql), versions(Dialect::SingleStore));
    }
}
