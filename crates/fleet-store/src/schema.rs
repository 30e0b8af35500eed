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
pub const TABLES: &[&str] = &[
    "sites",
    "devices",
    "device_tags",
    "templates",
    "checkins",
    "device_hourly",
    "fleet_hourly",
    "device_latest",
    "audit_events",
    "push_records",
    "push_batches",
    "config_texts",
    "config_versions",
    "config_lines",
    "config_rules",
    "config_secrets",
    "outbox",
];

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

// The embedded store keys check-ins and rollups by a local integer
// (`devices.key`) instead of the 36-byte UUID: at fifty million check-ins
// that is the difference between a 3 GB and a 5 GB file. Check-ins and
// rollups are clustered by (device, time), so a device's series is one
// range read.
const SQLITE: &[Migration] = &[
    (
        1,
        &[
            "CREATE TABLE sites (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            poll_interval_secs INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        )",
            "CREATE TABLE devices (
            key INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            site_id TEXT REFERENCES sites(id),
            host TEXT NOT NULL,
            port INTEGER NOT NULL,
            username TEXT NOT NULL,
            transport TEXT NOT NULL,
            tls_fingerprint TEXT,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            UNIQUE (host, port)
        )",
            "CREATE INDEX devices_site ON devices (site_id)",
            "CREATE TABLE device_tags (
            device_id TEXT NOT NULL REFERENCES devices(id),
            tag TEXT NOT NULL,
            PRIMARY KEY (device_id, tag)
        ) WITHOUT ROWID",
            "CREATE INDEX device_tags_tag ON device_tags (tag)",
            "CREATE TABLE templates (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            body TEXT NOT NULL,
            updated_at INTEGER NOT NULL
        )",
            "CREATE TABLE checkins (
            device_key INTEGER NOT NULL,
            checked_in_at INTEGER NOT NULL,
            cpu_load INTEGER NOT NULL,
            cpu_count INTEGER NOT NULL,
            free_memory INTEGER NOT NULL,
            total_memory INTEGER NOT NULL,
            free_hdd INTEGER NOT NULL,
            total_hdd INTEGER NOT NULL,
            uptime_secs INTEGER NOT NULL,
            version TEXT NOT NULL,
            rx_bytes INTEGER NOT NULL,
            tx_bytes INTEGER NOT NULL,
            rx_bps INTEGER NOT NULL,
            tx_bps INTEGER NOT NULL,
            PRIMARY KEY (device_key, checked_in_at)
        ) WITHOUT ROWID",
            "CREATE TABLE device_hourly (
            device_key INTEGER NOT NULL,
            hour INTEGER NOT NULL,
            checkins INTEGER NOT NULL,
            cpu_sum INTEGER NOT NULL,
            cpu_max INTEGER NOT NULL,
            memory_used_pct_sum REAL NOT NULL,
            rx_bps_sum INTEGER NOT NULL,
            tx_bps_sum INTEGER NOT NULL,
            PRIMARY KEY (device_key, hour)
        ) WITHOUT ROWID",
            "CREATE TABLE fleet_hourly (
            hour INTEGER PRIMARY KEY,
            checkins INTEGER NOT NULL,
            cpu_sum INTEGER NOT NULL
        )",
            "CREATE TABLE device_latest (
            device_key INTEGER PRIMARY KEY REFERENCES devices(key),
            checked_in_at INTEGER,
            cpu_load INTEGER,
            cpu_count INTEGER,
            free_memory INTEGER,
            total_memory INTEGER,
            free_hdd INTEGER,
            total_hdd INTEGER,
            uptime_secs INTEGER,
            version TEXT,
            board TEXT,
            identity TEXT,
            serial TEXT,
            rx_bps INTEGER,
            tx_bps INTEGER,
            last_polled_at INTEGER,
            last_error TEXT,
            failures INTEGER NOT NULL DEFAULT 0
        )",
            "CREATE TABLE audit_events (
            id TEXT PRIMARY KEY,
            at INTEGER NOT NULL,
            device_id TEXT,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            detail TEXT NOT NULL
        )",
            "CREATE INDEX audit_events_device ON audit_events (device_id, at)",
            "CREATE INDEX audit_events_at ON audit_events (at)",
            "CREATE TABLE push_records (
            id TEXT PRIMARY KEY,
            device_id TEXT NOT NULL,
            template_id TEXT,
            started_at INTEGER NOT NULL,
            finished_at INTEGER,
            status TEXT NOT NULL,
            summary TEXT NOT NULL,
            updated_at INTEGER NOT NULL
        )",
            "CREATE INDEX push_records_device ON push_records (device_id, started_at)",
            "CREATE TABLE outbox (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            kind TEXT NOT NULL,
            records INTEGER NOT NULL,
            payload TEXT NOT NULL,
            created_at INTEGER NOT NULL
        )",
        ],
    ),
    (
        2,
        &[
            "ALTER TABLE push_records ADD COLUMN batch_id TEXT",
            "CREATE INDEX push_records_batch ON push_records (batch_id)",
            "CREATE TABLE push_batches (
            id TEXT PRIMARY KEY,
            started_at INTEGER NOT NULL,
            finished_at INTEGER,
            status TEXT NOT NULL,
            actor TEXT NOT NULL,
            options TEXT NOT NULL,
            targets TEXT NOT NULL,
            summary TEXT NOT NULL,
            updated_at INTEGER NOT NULL
        )",
        ],
    ),
    (
        3,
        &[
            // Configuration history: each distinct normalised text once
            // (zstd-compressed), and a row per version pointing at it.
            "CREATE TABLE config_texts (
            hash TEXT PRIMARY KEY,
            size INTEGER NOT NULL,
            body BLOB NOT NULL
        )",
            "CREATE TABLE config_versions (
            id TEXT PRIMARY KEY,
            device_id TEXT NOT NULL,
            taken_at INTEGER NOT NULL,
            hash TEXT NOT NULL,
            routeros_version TEXT,
            board TEXT,
            serial TEXT,
            push_id TEXT,
            drift INTEGER NOT NULL DEFAULT 0,
            line_count INTEGER NOT NULL,
            checked_at INTEGER NOT NULL
        )",
            "CREATE INDEX config_versions_device ON config_versions (device_id, taken_at)",
        ],
    ),
    (
        4,
        &[
            // The newest configuration of each router, a row per line, and
            // a trigram index over the lines for substring search: rows only
            // (`detail = none`), a fraction of a full index's size; each
            // candidate line is then checked for the string itself.
            "CREATE TABLE config_lines (
            device_id TEXT NOT NULL,
            line_no INTEGER NOT NULL,
            line TEXT NOT NULL,
            PRIMARY KEY (device_id, line_no)
        )",
            "CREATE VIRTUAL TABLE config_search USING fts5(
            line, content = 'config_lines', content_rowid = 'rowid', tokenize = 'trigram',
            detail = none
        )",
            // Trigger bodies end on their statement's line, so the printed
            // DDL has one `;` + newline per statement.
            "CREATE TRIGGER config_lines_added AFTER INSERT ON config_lines BEGIN
            INSERT INTO config_search (rowid, line) VALUES (new.rowid, new.line); END",
            "CREATE TRIGGER config_lines_removed AFTER DELETE ON config_lines BEGIN
            INSERT INTO config_search (config_search, rowid, line)
            VALUES ('delete', old.rowid, old.line); END",
        ],
    ),
    (
        5,
        &[
            // Compliance rules: what each checks is fleet-core's, as JSON.
            // A rule is switched off, not deleted, so the change syncs.
            "CREATE TABLE config_rules (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            scope TEXT NOT NULL,
            body TEXT NOT NULL,
            enabled INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        )",
        ],
    ),
    (
        6,
        &[
            // The search index keeps each distinct line once: a fleet's
            // routers share most of their lines, and a router's change
            // adds its new lines only, where a row per line rewrote the
            // router's whole index. Rebuilt from the newest versions by
            // the migration (see `sqlite::configs::reindex`).
            "DROP TRIGGER config_lines_added",
            "DROP TRIGGER config_lines_removed",
            "DROP TABLE config_search",
            "DROP TABLE config_lines",
            // A line, keyed by the first 8 bytes of its SHA-256 (the next
            // key on the rare collision).
            "CREATE TABLE config_line_texts (
            id INTEGER PRIMARY KEY,
            key INTEGER NOT NULL UNIQUE,
            line TEXT NOT NULL
        )",
            "CREATE VIRTUAL TABLE config_search USING fts5(
            line, content = 'config_line_texts', content_rowid = 'id', tokenize = 'trigram',
            detail = none
        )",
            "CREATE TRIGGER config_line_texts_added AFTER INSERT ON config_line_texts BEGIN
            INSERT INTO config_search (rowid, line) VALUES (new.id, new.line); END",
            // Each router's newest configuration: its line ids in order,
            // LEB128 varints.
            "CREATE TABLE config_lines (
            device_id TEXT PRIMARY KEY,
            lines BLOB NOT NULL
        )",
            // An opted-in export with its secrets, sealed (AES-256-GCM, the
            // key in the keyring): never readable from the store alone.
            "CREATE TABLE config_secrets (
            version_id TEXT PRIMARY KEY,
            body BLOB NOT NULL
        )",
        ],
    ),
];

// Ids are ASCII with binary collation: joins and keys on 10,000 routers
// compare 36 bytes, not 144 under a Unicode collation.
const MYSQL: &[Migration] = &[(
    1,
    &[
        "CREATE TABLE sites (
            id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
            name VARCHAR(255) NOT NULL,
            poll_interval_secs INT NOT NULL,
            updated_at BIGINT NOT NULL,
            UNIQUE KEY sites_name (name)
        ) DEFAULT CHARSET = utf8mb4",
        "CREATE TABLE devices (
            id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
            site_id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NULL,
            host VARCHAR(255) NOT NULL,
            port INT NOT NULL,
            username VARCHAR(255) NOT NULL,
            transport VARCHAR(32) NOT NULL,
            tls_fingerprint VARCHAR(128) NULL,
            created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL,
            UNIQUE KEY devices_address (host, port),
            KEY devices_site (site_id),
            CONSTRAINT devices_site FOREIGN KEY (site_id) REFERENCES sites (id)
        ) DEFAULT CHARSET = utf8mb4",
        "CREATE TABLE device_tags (
            device_id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
            tag VARCHAR(255) NOT NULL,
            PRIMARY KEY (device_id, tag),
            KEY device_tags_tag (tag),
            CONSTRAINT device_tags_device FOREIGN KEY (device_id) REFERENCES devices (id)
        ) DEFAULT CHARSET = utf8mb4",
        "CREATE TABLE templates (
            id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
            name VARCHAR(255) NOT NULL,
            body MEDIUMTEXT NOT NULL,
            updated_at BIGINT NOT NULL,
            UNIQUE KEY templates_name (name)
        ) DEFAULT CHARSET = utf8mb4",
        "CREATE TABLE checkins (
            device_id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
            checked_in_at BIGINT NOT NULL,
            cpu_load INT NOT NULL,
            cpu_count INT NOT NULL,
            free_memory BIGINT NOT NULL,
            total_memory BIGINT NOT NULL,
            free_hdd BIGINT NOT NULL,
            total_hdd BIGINT NOT NULL,
            uptime_secs BIGINT NOT NULL,
            version VARCHAR(64) NOT NULL,
            rx_bytes BIGINT NOT NULL,
            tx_bytes BIGINT NOT NULL,
            rx_bps BIGINT NOT NULL,
            tx_bps BIGINT NOT NULL,
            PRIMARY KEY (device_id, checked_in_at)
        ) DEFAULT CHARSET = utf8mb4",
        "CREATE TABLE device_hourly (
            device_id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
            hour BIGINT NOT NULL,
            checkins BIGINT NOT NULL,
            cpu_sum BIGINT NOT NULL,
            cpu_max INT NOT NULL,
            memory_used_pct_sum DOUBLE NOT NULL,
            rx_bps_sum BIGINT NOT NULL,
            tx_bps_sum BIGINT NOT NULL,
            PRIMARY KEY (device_id, hour)
        ) DEFAULT CHARSET = utf8mb4",
        "CREATE TABLE fleet_hourly (
            hour BIGINT NOT NULL PRIMARY KEY,
            checkins BIGINT NOT NULL,
            cpu_sum BIGINT NOT NULL
        )",
        "CREATE TABLE device_latest (
            device_id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
            checked_in_at BIGINT NULL,
            cpu_load INT NULL,
            cpu_count INT NULL,
            free_memory BIGINT NULL,
            total_memory BIGINT NULL,
            free_hdd BIGINT NULL,
            total_hdd BIGINT NULL,
            uptime_secs BIGINT NULL,
            version VARCHAR(64) NULL,
            board VARCHAR(255) NULL,
            identity VARCHAR(255) NULL,
            serial VARCHAR(64) NULL,
            rx_bps BIGINT NULL,
            tx_bps BIGINT NULL,
            last_polled_at BIGINT NULL,
            last_error TEXT NULL,
            failures INT NOT NULL DEFAULT 0,
            CONSTRAINT device_latest_device FOREIGN KEY (device_id) REFERENCES devices (id)
        ) DEFAULT CHARSET = utf8mb4",
        "CREATE TABLE audit_events (
            id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
            at BIGINT NOT NULL,
            device_id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NULL,
            actor VARCHAR(255) NOT NULL,
            action VARCHAR(255) NOT NULL,
            detail MEDIUMTEXT NOT NULL,
            KEY audit_events_device (device_id, at),
            KEY audit_events_at (at)
        ) DEFAULT CHARSET = utf8mb4",
        "CREATE TABLE push_records (
            id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
            device_id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
            template_id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NULL,
            started_at BIGINT NOT NULL,
            finished_at BIGINT NULL,
            status VARCHAR(32) NOT NULL,
            summary MEDIUMTEXT NOT NULL,
            updated_at BIGINT NOT NULL,
            KEY push_records_device (device_id, started_at)
        ) DEFAULT CHARSET = utf8mb4",
        "CREATE TABLE outbox (
            seq BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
            kind VARCHAR(32) NOT NULL,
            records INT NOT NULL,
            payload LONGTEXT NOT NULL,
            created_at BIGINT NOT NULL
        ) DEFAULT CHARSET = utf8mb4",
    ],
), (
    2,
    &[
        "ALTER TABLE push_records ADD COLUMN batch_id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NULL",
        "ALTER TABLE push_records ADD KEY push_records_batch (batch_id)",
        "CREATE TABLE push_batches (
            id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
            started_at BIGINT NOT NULL,
            finished_at BIGINT NULL,
            status VARCHAR(32) NOT NULL,
            actor VARCHAR(255) NOT NULL,
            options MEDIUMTEXT NOT NULL,
            targets LONGTEXT NOT NULL,
            summary MEDIUMTEXT NOT NULL,
            updated_at BIGINT NOT NULL,
            KEY push_batches_started (started_at)
        ) DEFAULT CHARSET = utf8mb4",
    ],
), (
    3,
    &[
        "CREATE TABLE config_texts (
            hash CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
            size INT NOT NULL,
            body LONGBLOB NOT NULL
        )",
        "CREATE TABLE config_versions (
            id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
            device_id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
            taken_at BIGINT NOT NULL,
            hash CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
            routeros_version VARCHAR(64) NULL,
            board VARCHAR(255) NULL,
            serial VARCHAR(64) NULL,
            push_id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NULL,
            drift TINYINT NOT NULL DEFAULT 0,
            line_count INT NOT NULL,
            checked_at BIGINT NOT NULL,
            KEY config_versions_device (device_id, taken_at)
        ) DEFAULT CHARSET = utf8mb4",
    ],
), (
    4,
    &[
        "CREATE TABLE config_lines (
            device_id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
            line_no INT NOT NULL,
            line TEXT NOT NULL,
            PRIMARY KEY (device_id, line_no)
        ) DEFAULT CHARSET = utf8mb4",
    ],
), (
    5,
    &["CREATE TABLE config_rules (
            id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
            name VARCHAR(255) NOT NULL,
            scope VARCHAR(255) NOT NULL,
            body TEXT NOT NULL,
            enabled TINYINT NOT NULL,
            updated_at BIGINT NOT NULL,
            UNIQUE KEY config_rules_name (name)
        ) DEFAULT CHARSET = utf8mb4"],
), (
    // The embedded store's search index changed shape; the shared one's
    // did not. Sealed exports with secrets, on every store.
    6,
    &["CREATE TABLE config_secrets (
            version_id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
            body LONGBLOB NOT NULL
        )"],
)];

// SingleStore: check-ins and rollups are columnstores sharded by device and
// sorted by time; small dimension tables are REFERENCE tables (copied to
// every node, so joins stay local); state that is updated in place is
// ROWSTORE. No foreign keys; every unique key contains the shard key.
const SINGLESTORE: &[Migration] = &[
    (
        1,
        &[
            "CREATE ROWSTORE REFERENCE TABLE sites (
            id CHAR(36) NOT NULL PRIMARY KEY,
            name VARCHAR(255) NOT NULL,
            poll_interval_secs INT NOT NULL,
            updated_at BIGINT NOT NULL,
            UNIQUE KEY sites_name (name)
        )",
            "CREATE ROWSTORE REFERENCE TABLE devices (
            id CHAR(36) NOT NULL PRIMARY KEY,
            site_id CHAR(36) NULL,
            host VARCHAR(255) NOT NULL,
            port INT NOT NULL,
            username VARCHAR(255) NOT NULL,
            transport VARCHAR(32) NOT NULL,
            tls_fingerprint VARCHAR(128) NULL,
            created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL,
            UNIQUE KEY devices_address (host, port),
            KEY devices_site (site_id)
        )",
            "CREATE ROWSTORE REFERENCE TABLE device_tags (
            device_id CHAR(36) NOT NULL,
            tag VARCHAR(255) NOT NULL,
            PRIMARY KEY (device_id, tag),
            KEY device_tags_tag (tag)
        )",
            "CREATE ROWSTORE REFERENCE TABLE templates (
            id CHAR(36) NOT NULL PRIMARY KEY,
            name VARCHAR(255) NOT NULL,
            body LONGTEXT NOT NULL,
            updated_at BIGINT NOT NULL,
            UNIQUE KEY templates_name (name)
        )",
            "CREATE TABLE checkins (
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
            rx_bytes BIGINT NOT NULL,
            tx_bytes BIGINT NOT NULL,
            rx_bps BIGINT NOT NULL,
            tx_bps BIGINT NOT NULL,
            SORT KEY (checked_in_at),
            SHARD KEY (device_id),
            UNIQUE KEY checkins_key (device_id, checked_in_at) USING HASH
        )",
            "CREATE TABLE device_hourly (
            device_id CHAR(36) NOT NULL,
            hour BIGINT NOT NULL,
            checkins BIGINT NOT NULL,
            cpu_sum BIGINT NOT NULL,
            cpu_max INT NOT NULL,
            memory_used_pct_sum DOUBLE NOT NULL,
            rx_bps_sum BIGINT NOT NULL,
            tx_bps_sum BIGINT NOT NULL,
            SORT KEY (hour),
            SHARD KEY (device_id),
            UNIQUE KEY device_hourly_key (device_id, hour) USING HASH
        )",
            "CREATE ROWSTORE REFERENCE TABLE fleet_hourly (
            hour BIGINT NOT NULL PRIMARY KEY,
            checkins BIGINT NOT NULL,
            cpu_sum BIGINT NOT NULL
        )",
            "CREATE ROWSTORE TABLE device_latest (
            device_id CHAR(36) NOT NULL,
            checked_in_at BIGINT NULL,
            cpu_load INT NULL,
            cpu_count INT NULL,
            free_memory BIGINT NULL,
            total_memory BIGINT NULL,
            free_hdd BIGINT NULL,
            total_hdd BIGINT NULL,
            uptime_secs BIGINT NULL,
            version VARCHAR(64) NULL,
            board VARCHAR(255) NULL,
            identity VARCHAR(255) NULL,
            serial VARCHAR(64) NULL,
            rx_bps BIGINT NULL,
            tx_bps BIGINT NULL,
            last_polled_at BIGINT NULL,
            last_error TEXT NULL,
            failures INT NOT NULL DEFAULT 0,
            PRIMARY KEY (device_id),
            SHARD KEY (device_id)
        )",
            "CREATE TABLE audit_events (
            id CHAR(36) NOT NULL,
            at BIGINT NOT NULL,
            device_id CHAR(36) NULL,
            actor VARCHAR(255) NOT NULL,
            action VARCHAR(255) NOT NULL,
            detail LONGTEXT NOT NULL,
            SORT KEY (at),
            SHARD KEY (id),
            UNIQUE KEY audit_events_id (id) USING HASH,
            KEY audit_events_device (device_id) USING HASH
        )",
            "CREATE ROWSTORE TABLE push_records (
            id CHAR(36) NOT NULL,
            device_id CHAR(36) NOT NULL,
            template_id CHAR(36) NULL,
            started_at BIGINT NOT NULL,
            finished_at BIGINT NULL,
            status VARCHAR(32) NOT NULL,
            summary LONGTEXT NOT NULL,
            updated_at BIGINT NOT NULL,
            PRIMARY KEY (id),
            SHARD KEY (id),
            KEY push_records_device (device_id, started_at)
        )",
            "CREATE ROWSTORE TABLE outbox (
            seq BIGINT NOT NULL AUTO_INCREMENT,
            kind VARCHAR(32) NOT NULL,
            records INT NOT NULL,
            payload LONGTEXT NOT NULL,
            created_at BIGINT NOT NULL,
            PRIMARY KEY (seq),
            SHARD KEY (seq)
        )",
        ],
    ),
    (
        2,
        &[
            "ALTER TABLE push_records ADD COLUMN batch_id CHAR(36) NULL",
            "ALTER TABLE push_records ADD KEY push_records_batch (batch_id)",
            "CREATE ROWSTORE TABLE push_batches (
            id CHAR(36) NOT NULL,
            started_at BIGINT NOT NULL,
            finished_at BIGINT NULL,
            status VARCHAR(32) NOT NULL,
            actor VARCHAR(255) NOT NULL,
            options LONGTEXT NOT NULL,
            targets LONGTEXT NOT NULL,
            summary LONGTEXT NOT NULL,
            updated_at BIGINT NOT NULL,
            PRIMARY KEY (id),
            SHARD KEY (id),
            KEY push_batches_started (started_at)
        )",
        ],
    ),
    (
        3,
        &[
            "CREATE ROWSTORE TABLE config_texts (
            hash CHAR(64) NOT NULL,
            size INT NOT NULL,
            body LONGBLOB NOT NULL,
            PRIMARY KEY (hash),
            SHARD KEY (hash)
        )",
            "CREATE ROWSTORE TABLE config_versions (
            id CHAR(36) NOT NULL,
            device_id CHAR(36) NOT NULL,
            taken_at BIGINT NOT NULL,
            hash CHAR(64) NOT NULL,
            routeros_version VARCHAR(64) NULL,
            board VARCHAR(255) NULL,
            serial VARCHAR(64) NULL,
            push_id CHAR(36) NULL,
            drift TINYINT NOT NULL DEFAULT 0,
            line_count INT NOT NULL,
            checked_at BIGINT NOT NULL,
            PRIMARY KEY (id),
            SHARD KEY (id),
            KEY config_versions_device (device_id, taken_at)
        )",
        ],
    ),
    (
        4,
        &["CREATE ROWSTORE TABLE config_lines (
            device_id CHAR(36) NOT NULL,
            line_no INT NOT NULL,
            line TEXT NOT NULL,
            PRIMARY KEY (device_id, line_no),
            SHARD KEY (device_id)
        )"],
    ),
    (
        5,
        &["CREATE ROWSTORE REFERENCE TABLE config_rules (
            id CHAR(36) NOT NULL PRIMARY KEY,
            name VARCHAR(255) NOT NULL,
            scope VARCHAR(255) NOT NULL,
            body TEXT NOT NULL,
            enabled TINYINT NOT NULL,
            updated_at BIGINT NOT NULL,
            UNIQUE KEY config_rules_name (name)
        )"],
    ),
    (
        6,
        &["CREATE ROWSTORE TABLE config_secrets (
            version_id CHAR(36) NOT NULL,
            body LONGBLOB NOT NULL,
            PRIMARY KEY (version_id),
            SHARD KEY (version_id)
        )"],
    ),
];

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
        assert!(ddl.contains("CREATE ROWSTORE REFERENCE TABLE sites"));
        assert!(ddl.contains("CREATE ROWSTORE TABLE device_latest"));
        assert!(
            !ddl.contains("FOREIGN KEY") && !ddl.contains("TRIGGER"),
            "SingleStore has no foreign keys or triggers"
        );
        // Check-ins: a columnstore sorted by time, sharded by device, whose
        // unique key contains the shard key.
        let checkins = table(&ddl, "checkins");
        assert!(
            checkins.starts_with("CREATE TABLE checkins ("),
            "{checkins}"
        );
        assert!(checkins.contains("SORT KEY (checked_in_at)"));
        assert!(checkins.contains("SHARD KEY (device_id)"));
        assert!(checkins.contains("UNIQUE KEY checkins_key (device_id, checked_in_at) USING HASH"));
        // Every sharded table's unique keys contain its shard key.
        for stmt in ddl.split("CREATE ").filter(|s| s.contains("SHARD KEY (")) {
            let shard = between(stmt, "SHARD KEY (", ")");
            for key in stmt
                .split("UNIQUE KEY ")
                .skip(1)
                .chain(stmt.split("PRIMARY KEY (").skip(1))
            {
                let cols = key.split_once('(').map_or(key, |k| k.1);
                let cols = cols.split(')').next().unwrap();
                assert!(
                    cols.contains(shard),
                    "unique key ({cols}) lacks shard key {shard} in {stmt}"
                );
            }
        }
    }

    fn table<'a>(ddl: &'a str, name: &str) -> &'a str {
        let at = ddl.find(&format!("TABLE {name} (")).unwrap();
        let start = ddl[..at].rfind("CREATE").unwrap();
        let rest = &ddl[start..];
        &rest[..rest[6..].find("CREATE").map_or(rest.len(), |e| e + 6)]
    }

    fn between<'a>(s: &'a str, open: &str, close: &str) -> &'a str {
        let from = s.find(open).unwrap() + open.len();
        &s[from..from + s[from..].find(close).unwrap()]
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
