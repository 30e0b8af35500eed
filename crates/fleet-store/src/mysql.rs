//! SingleStore (and MySQL/MariaDB) over the MySQL protocol via `mysql_async`.

use mysql_async::{
    prelude::*, Conn, Opts, OptsBuilder, Params, Pool, PoolConstraints, PoolOpts, Row, TxOpts,
    Value,
};

use crate::{
    model::{new_id, now_ms},
    schema::{self, Dialect},
    Checkin, Device, NewDevice, SeriesPoint, StoreError, StoreUrl,
};

/// The pool never grows with the fleet: the seed company ran its database
/// out of connections bootstrapping hundreds of routers at once.
pub const DEFAULT_MAX_CONNECTIONS: usize = 8;

pub(crate) struct MysqlStore {
    pool: Pool,
    location: String,
}

const DEVICE_COLUMNS: &str =
    "id, host, port, username, identity, board, version, serial, created_at, \
     last_checkin_at, last_cpu_load, last_polled_at, last_error";

fn device_from_row(mut r: Row) -> Device {
    fn take<T: FromValue>(r: &mut Row, i: usize) -> T {
        r.take::<T, usize>(i)
            .expect("column selected by DEVICE_COLUMNS")
    }
    Device {
        id: take(&mut r, 0),
        host: take(&mut r, 1),
        port: take(&mut r, 2),
        username: take(&mut r, 3),
        identity: take(&mut r, 4),
        board: take(&mut r, 5),
        version: take(&mut r, 6),
        serial: take(&mut r, 7),
        created_at: take(&mut r, 8),
        last_checkin_at: take(&mut r, 9),
        last_cpu_load: take(&mut r, 10),
        last_polled_at: take(&mut r, 11),
        last_error: take(&mut r, 12),
    }
}

fn is_duplicate_key(e: &mysql_async::Error) -> bool {
    matches!(e, mysql_async::Error::Server(s) if s.code == 1062)
}

impl MysqlStore {
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let location = StoreUrl::Mysql(url.to_owned()).redacted();
        let opts = Opts::from_url(url).map_err(|_| StoreError::InvalidUrl(location.clone()))?;
        let constraints = PoolConstraints::new(0, DEFAULT_MAX_CONNECTIONS).expect("0 <= 8");
        let opts = OptsBuilder::from_opts(opts)
            .pool_opts(PoolOpts::default().with_constraints(constraints))
            .prefer_socket(false);
        let pool = Pool::new(opts);
        let mut conn = pool
            .get_conn()
            .await
            .map_err(|source| StoreError::Unreachable {
                location: location.clone(),
                source,
            })?;
        let dialect = detect_dialect(&mut conn).await;
        migrate(&mut conn, dialect).await?;
        Ok(Self { pool, location })
    }

    async fn conn(&self) -> Result<Conn, StoreError> {
        self.pool
            .get_conn()
            .await
            .map_err(|source| StoreError::Unreachable {
                location: self.location.clone(),
                source,
            })
    }

    pub async fn add_device(&self, new: &NewDevice) -> Result<Device, StoreError> {
        let mut c = self.conn().await?;
        let id = new_id();
        let res = c
            .exec_drop(
                "INSERT INTO devices (id, host, port, username, created_at) VALUES (?, ?, ?, ?, ?)",
                (&id, &new.host, new.port, &new.username, now_ms()),
            )
            .await;
        match res {
            Err(e) if is_duplicate_key(&e) => Err(StoreError::DuplicateDevice {
                host: new.host.clone(),
                port: new.port,
            }),
            Err(e) => Err(e.into()),
            Ok(()) => get_device(&mut c, &id)
                .await?
                .ok_or(StoreError::NotFound(id)),
        }
    }

    pub async fn get_device(&self, id: &str) -> Result<Option<Device>, StoreError> {
        get_device(&mut self.conn().await?, id).await
    }

    pub async fn find_device(&self, host: &str, port: u16) -> Result<Option<Device>, StoreError> {
        let row: Option<Row> = self
            .conn()
            .await?
            .exec_first(
                format!("SELECT {DEVICE_COLUMNS} FROM devices WHERE host = ? AND port = ?"),
                (host, port),
            )
            .await?;
        Ok(row.map(device_from_row))
    }

    pub async fn list_devices(&self) -> Result<Vec<Device>, StoreError> {
        let rows: Vec<Row> = self
            .conn()
            .await?
            .query(format!(
                "SELECT {DEVICE_COLUMNS} FROM devices ORDER BY COALESCE(identity, host), host, port"
            ))
            .await?;
        Ok(rows.into_iter().map(device_from_row).collect())
    }

    pub async fn record_checkin(&self, k: &Checkin) -> Result<(), StoreError> {
        let mut c = self.conn().await?;
        let mut tx = c.start_transaction(TxOpts::default()).await?;
        let values: Vec<Value> = vec![
            k.id.clone().into(),
            k.device_id.clone().into(),
            k.checked_in_at.into(),
            k.cpu_load.into(),
            k.cpu_count.into(),
            k.free_memory.into(),
            k.total_memory.into(),
            k.free_hdd.into(),
            k.total_hdd.into(),
            k.uptime_secs.into(),
            k.version.clone().into(),
            k.board_name.clone().into(),
            k.identity.clone().into(),
            k.rx_bytes.into(),
            k.tx_bytes.into(),
        ];
        tx.exec_drop(
            "INSERT INTO site_checkins (id, device_id, checked_in_at, cpu_load, cpu_count,
                free_memory, total_memory, free_hdd, total_hdd, uptime_secs, version,
                board_name, identity, rx_bytes, tx_bytes)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
             ON DUPLICATE KEY UPDATE id = id",
            Params::Positional(values),
        )
        .await?;
        tx.exec_drop(
            "UPDATE devices SET identity = ?, board = ?, version = ?,
                serial = COALESCE(?, serial), last_checkin_at = ?, last_cpu_load = ?,
                last_polled_at = ?, last_error = NULL
             WHERE id = ? AND (last_checkin_at IS NULL OR last_checkin_at <= ?)",
            Params::Positional(vec![
                k.identity.clone().into(),
                k.board_name.clone().into(),
                k.version.clone().into(),
                k.serial.clone().into(),
                k.checked_in_at.into(),
                (k.cpu_load as f64).into(),
                k.checked_in_at.into(),
                k.device_id.clone().into(),
                k.checked_in_at.into(),
            ]),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn record_poll_failure(
        &self,
        device_id: &str,
        at_ms: i64,
        message: &str,
    ) -> Result<(), StoreError> {
        let mut c = self.conn().await?;
        c.exec_drop(
            "UPDATE devices SET last_polled_at = ?, last_error = ? WHERE id = ?",
            (at_ms, message, device_id),
        )
        .await?;
        if c.affected_rows() == 0 && get_device(&mut c, device_id).await?.is_none() {
            return Err(StoreError::NotFound(device_id.to_owned()));
        }
        Ok(())
    }

    pub async fn cpu_series(
        &self,
        device_id: &str,
        from_ms: i64,
        to_ms: i64,
        width: i64,
    ) -> Result<Vec<SeriesPoint>, StoreError> {
        let rows: Vec<(i64, f64)> = self
            .conn()
            .await?
            .exec(
                "SELECT ? + ((checked_in_at - ?) DIV ?) * ? AS bucket, AVG(cpu_load) + 0E0
                 FROM site_checkins
                 WHERE device_id = ? AND checked_in_at >= ? AND checked_in_at <= ?
                 GROUP BY bucket ORDER BY bucket",
                (from_ms, from_ms, width, width, device_id, from_ms, to_ms),
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|(at, value)| SeriesPoint { at, value })
            .collect())
    }

    pub async fn checkin_span(
        &self,
        device_id: &str,
        from_ms: i64,
    ) -> Result<Option<(i64, i64)>, StoreError> {
        let span: Option<(Option<i64>, Option<i64>)> = self
            .conn()
            .await?
            .exec_first(
                "SELECT MIN(checked_in_at), MAX(checked_in_at) FROM site_checkins
                 WHERE device_id = ? AND checked_in_at >= ?",
                (device_id, from_ms),
            )
            .await?;
        Ok(span.and_then(|(a, b)| a.zip(b)))
    }

    pub async fn stats(&self) -> Result<Vec<(&'static str, u64)>, StoreError> {
        let mut c = self.conn().await?;
        let mut out = Vec::new();
        for t in schema::TABLES {
            // Table names come from a constant list, never from input.
            let n: Option<i64> = c.query_first(format!("SELECT COUNT(*) FROM {t}")).await?;
            out.push((*t, n.unwrap_or(0) as u64));
        }
        Ok(out)
    }

    pub async fn count_checkins(&self, device_id: &str) -> Result<u64, StoreError> {
        let n: Option<i64> = self
            .conn()
            .await?
            .exec_first(
                "SELECT COUNT(*) FROM site_checkins WHERE device_id = ?",
                (device_id,),
            )
            .await?;
        Ok(n.unwrap_or(0) as u64)
    }
}

async fn get_device(c: &mut Conn, id: &str) -> Result<Option<Device>, StoreError> {
    let row: Option<Row> = c
        .exec_first(
            format!("SELECT {DEVICE_COLUMNS} FROM devices WHERE id = ?"),
            (id,),
        )
        .await?;
    Ok(row.map(device_from_row))
}

/// SingleStore answers `@@memsql_version`; MySQL and MariaDB reject it.
async fn detect_dialect(c: &mut Conn) -> Dialect {
    match c.query_first::<String, _>("SELECT @@memsql_version").await {
        Ok(Some(v)) => {
            tracing::info!(version = %v, "SingleStore detected");
            Dialect::SingleStore
        }
        _ => Dialect::Mysql,
    }
}

async fn migrate(c: &mut Conn, dialect: Dialect) -> Result<(), StoreError> {
    c.query_drop(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT NOT NULL PRIMARY KEY, applied_at BIGINT NOT NULL)",
    )
    .await?;
    let current: i64 = c
        .query_first::<Option<i64>, _>("SELECT MAX(version) FROM schema_migrations")
        .await?
        .flatten()
        .unwrap_or(0);
    let supported = schema::latest_version(dialect);
    if current > supported {
        return Err(StoreError::SchemaTooNew {
            found: current,
            supported,
        });
    }
    for (version, statements) in schema::migrations(dialect) {
        if *version <= current {
            continue;
        }
        // DDL commits implicitly in MySQL; the version row is written last so
        // an interrupted migration is retried, and each statement is idempotent
        // enough to be checked by the test suite on a fresh database.
        for s in *statements {
            c.query_drop(*s).await?;
        }
        c.exec_drop(
            "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)",
            (version, now_ms()),
        )
        .await?;
        tracing::info!(version, ?dialect, "fleet database migrated");
    }
    Ok(())
}
