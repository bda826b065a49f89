//! The bulk path's in-memory view of a batch (README: batch per transaction). Everything the writer's decisions
//! read is fetched for the whole batch in a few statements (locked rows, tombstones, parents, known event ids);
//! `apply::apply_all` then runs against this view exactly as it runs against the database, and the view records
//! the final state of every touched row, which `Plan` turns into a few multi-row statements.

use crate::conflict::Version;
use crate::position::{may_be_redelivered, Lane, SourcePosition};
use crate::row::{Delete, RowOp, SqlValue, Upsert};
use crate::write::error::WriteError;
use crate::write::schema::ColumnTypes;
use crate::write::store::{RowStore, Stored};
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, HashMap, HashSet};
use uuid::Uuid;

/// A row, by table and key.
pub(crate) type RowKey = (String, i64);

/// Column values to write, in target names.
pub(crate) type Columns = Vec<(String, SqlValue)>;

/// A ledger row's key: the event's source commit time, then its id. Both come from the message, so a redelivery has
/// the same key; the time first keeps new rows at the end of the ledger's index (README, "Replays apply nothing").
pub(crate) type LedgerKey = (DateTime<Utc>, Uuid);

/// What the bulk path reads before deciding: per table, the keys of the batch's rows (locked) and of their parents.
#[derive(Debug, Default)]
pub(crate) struct Request {
    /// Table → (key column, updated_at column, keys) of rows the batch writes.
    pub rows: BTreeMap<String, (String, String, Vec<i64>)>,
    /// Table → (key column, keys) of parents the batch references.
    pub parents: BTreeMap<String, (String, Vec<i64>)>,
    /// Every event's ledger key, with its source position if known.
    pub events: Vec<(LedgerKey, Option<SourcePosition>)>,
    /// The topic partition the batch came from, whose position watermark decides which event ids are looked up.
    pub lane: Option<Lane>,
}

impl Request {
    pub fn of(ops: &[RowOp], lane: Option<&Lane>) -> Self {
        let mut request = Request {
            lane: lane.cloned(),
            ..Request::default()
        };
        for op in ops {
            let (key_column, updated_at_column) = match op {
                RowOp::Upsert(u) => (&u.key_column, &u.updated_at_column),
                RowOp::Delete(d) => (&d.key_column, &d.updated_at_column),
            };
            let entry = request
                .rows
                .entry(op.table().to_string())
                .or_insert_with(|| (key_column.clone(), updated_at_column.clone(), Vec::new()));
            entry.2.push(op.key());
            let key = (op.source_committed_at(), op.event_id());
            request.events.push((key, op.position().cloned()));
            if let RowOp::Upsert(upsert) = op {
                for parent in &upsert.parents {
                    let entry = request
                        .parents
                        .entry(parent.table.clone())
                        .or_insert_with(|| (parent.key_column.clone(), Vec::new()));
                    entry.1.push(parent.id);
                }
            }
        }
        for (_, _, keys) in request.rows.values_mut() {
            keys.sort_unstable();
            keys.dedup();
        }
        for (_, keys) in request.parents.values_mut() {
            keys.sort_unstable();
            keys.dedup();
        }
        request
    }

    /// The events to look up in the ledger: without a lane (repairs, direct calls) every one; from a lane, those
    /// that may be redeliveries under its `watermark` (none stored yet: a lane's first batch has none).
    pub fn events_to_look_up(&self, watermark: Option<&SourcePosition>) -> Vec<LedgerKey> {
        self.events
            .iter()
            .filter(|(_, position)| {
                self.lane.is_none() || may_be_redelivered(position.as_ref(), watermark)
            })
            .map(|(key, _)| *key)
            .collect()
    }

    /// Every (table, key) whose tombstone matters: the batch's rows and their parents.
    pub fn tombstone_keys(&self) -> BTreeMap<String, Vec<i64>> {
        let mut keys: BTreeMap<String, Vec<i64>> = BTreeMap::new();
        for (table, (_, _, rows)) in &self.rows {
            keys.entry(table.clone()).or_default().extend(rows);
        }
        for (table, (_, parents)) in &self.parents {
            keys.entry(table.clone()).or_default().extend(parents);
        }
        for list in keys.values_mut() {
            list.sort_unstable();
            list.dedup();
        }
        keys
    }
}

/// What the database held when the batch started.
#[derive(Debug, Default)]
pub(crate) struct Fetched {
    /// Versions of the batch's rows that exist (locked until commit).
    pub rows: HashMap<RowKey, Stored>,
    /// Parents that exist.
    pub parents: HashSet<RowKey>,
    /// Tombstones (deleted_at, source) of the batch's rows and parents.
    pub tombstones: HashMap<RowKey, Stored>,
    /// Event ids already in the ledger (of those that were looked up).
    pub known_events: HashSet<Uuid>,
    /// The lane's position watermark (locked until commit), when the batch came from a lane.
    pub watermark: Option<SourcePosition>,
}

/// The batch's effect on one row.
#[derive(Debug, Clone)]
struct Entry {
    /// The row existed when the batch started.
    in_db: bool,
    /// The row exists now, with this version.
    version: Option<Stored>,
    /// Columns to write (merged over the batch), if the row was written.
    columns: Option<Columns>,
    key_column: String,
    tombstone: Option<Stored>,
    /// The tombstone's final state changed: Some(Some(version)) put, Some(None) dropped.
    tombstone_change: Option<Option<Version>>,
    /// The row was deleted during the batch (so a re-insert is a delete plus an insert, cascades included).
    deleted_in_batch: bool,
    /// The version the row held when it was last deleted, as the table's trigger would record it.
    deleted_row: Option<Stored>,
}

/// The database as the batch sees it.
pub(crate) struct BatchView {
    fetched: Fetched,
    entries: HashMap<RowKey, Entry>,
    /// Tables in the order entries were first touched, for a stable plan.
    order: Vec<RowKey>,
    events: Vec<(Uuid, DateTime<Utc>)>,
    seen_events: HashSet<Uuid>,
}

impl BatchView {
    pub fn new(fetched: Fetched) -> Self {
        BatchView {
            fetched,
            entries: HashMap::new(),
            order: Vec::new(),
            events: Vec::new(),
            seen_events: HashSet::new(),
        }
    }

    fn entry(&mut self, table: &str, key: i64, key_column: &str) -> &mut Entry {
        let row = (table.to_string(), key);
        let (fetched, order) = (&self.fetched, &mut self.order);
        self.entries.entry(row.clone()).or_insert_with(|| {
            order.push(row.clone());
            let version = fetched.rows.get(&row).cloned();
            Entry {
                in_db: version.is_some(),
                version,
                columns: None,
                key_column: key_column.to_string(),
                tombstone: fetched.tombstones.get(&row).cloned(),
                tombstone_change: None,
                deleted_in_batch: false,
                deleted_row: None,
            }
        })
    }

    /// The statements that leave the database as the view ends.
    pub fn plan(self) -> Plan {
        let mut plan = Plan {
            events: self.events,
            ..Plan::default()
        };
        for row in self.order {
            let Some(entry) = self.entries.get(&row) else {
                continue;
            };
            let (table, key) = row.clone();
            let deletes = |plan: &mut Plan| {
                plan.deletes
                    .entry(table.clone())
                    .or_insert_with(|| (entry.key_column.clone(), Vec::new()))
                    .1
                    .push(key)
            };
            match (&entry.version, entry.in_db) {
                (None, true) => deletes(&mut plan),
                (Some(_), true) if entry.deleted_in_batch => {
                    // Deleted, then inserted again: the database must see both, with what the delete cascades.
                    deletes(&mut plan);
                    if let Some(columns) = &entry.columns {
                        plan.inserts.push((table.clone(), columns.clone()));
                    }
                }
                (Some(_), true) => {
                    if let Some(columns) = &entry.columns {
                        let columns = columns
                            .iter()
                            .filter(|(name, _)| *name != entry.key_column)
                            .cloned()
                            .collect();
                        plan.updates
                            .push((table.clone(), entry.key_column.clone(), key, columns));
                    }
                }
                (Some(_), false) => {
                    if let Some(columns) = &entry.columns {
                        plan.inserts.push((table.clone(), columns.clone()));
                    }
                }
                (None, false) => {}
            }
            match entry.tombstone_change {
                Some(Some(version)) => {
                    let row_updated_at = entry
                        .deleted_row
                        .as_ref()
                        .map_or(version.updated_at, |r| r.updated_at);
                    plan.put_tombstones
                        .push((table, key, row_updated_at, version));
                }
                Some(None) => plan.drop_tombstones.push((table, key)),
                None => {}
            }
        }
        plan
    }
}

/// The multi-row statements of a batch, in the order they must run: deletes (a child's before its parent's, by the
/// caller's table order), tombstones, inserts and updates (parents first), then the ledger.
#[derive(Debug, Default)]
pub(crate) struct Plan {
    /// Table → (key column, keys).
    pub deletes: BTreeMap<String, (String, Vec<i64>)>,
    /// (table, key, the deleted row's updated_at, the delete's version).
    pub put_tombstones: Vec<(String, i64, chrono::DateTime<Utc>, Version)>,
    pub drop_tombstones: Vec<(String, i64)>,
    /// (table, columns) in batch order.
    pub inserts: Vec<(String, Columns)>,
    /// (table, key column, key, columns) in batch order.
    pub updates: Vec<(String, String, i64, Columns)>,
    /// (event id, source commit time) for the ledger.
    pub events: Vec<(Uuid, DateTime<Utc>)>,
}

fn merge(into: &mut Option<Columns>, columns: &[(String, SqlValue)]) {
    match into {
        None => *into = Some(columns.to_vec()),
        Some(existing) => {
            for (name, value) in columns {
                match existing.iter_mut().find(|(n, _)| n == name) {
                    Some(slot) => slot.1 = value.clone(),
                    None => existing.push((name.clone(), value.clone())),
                }
            }
        }
    }
}

fn sync_version(updated_at: chrono::DateTime<Utc>) -> Stored {
    Stored {
        updated_at,
        source: crate::filter::SYNC_SERVICE_SOURCE.to_string(),
    }
}

impl RowStore for BatchView {
    async fn record_event(
        &mut self,
        event_id: Uuid,
        source_committed_at: DateTime<Utc>,
    ) -> Result<bool, WriteError> {
        if self.fetched.known_events.contains(&event_id) || !self.seen_events.insert(event_id) {
            return Ok(false);
        }
        self.events.push((event_id, source_committed_at));
        Ok(true)
    }

    async fn row_exists(
        &mut self,
        table: &str,
        _key_column: &str,
        key: i64,
    ) -> Result<bool, WriteError> {
        let row = (table.to_string(), key);
        Ok(match self.entries.get(&row) {
            Some(entry) => entry.version.is_some(),
            None => self.fetched.rows.contains_key(&row) || self.fetched.parents.contains(&row),
        })
    }

    async fn lock_version(
        &mut self,
        table: &str,
        key_column: &str,
        _updated_at_column: &str,
        key: i64,
    ) -> Result<Option<Stored>, WriteError> {
        Ok(self.entry(table, key, key_column).version.clone())
    }

    async fn tombstone(&mut self, table: &str, key: i64) -> Result<Option<Stored>, WriteError> {
        let row = (table.to_string(), key);
        Ok(match self.entries.get(&row) {
            Some(entry) => entry.tombstone.clone(),
            None => self.fetched.tombstones.get(&row).cloned(),
        })
    }

    async fn drop_tombstone(&mut self, table: &str, key: i64) -> Result<(), WriteError> {
        let row = (table.to_string(), key);
        if let Some(entry) = self.entries.get_mut(&row) {
            entry.tombstone = None;
            entry.tombstone_change = Some(None);
        }
        Ok(())
    }

    async fn put_tombstone(
        &mut self,
        table: &str,
        key: i64,
        deleted: Version,
    ) -> Result<(), WriteError> {
        let entry = self.entry(table, key, "");
        entry.tombstone = Some(sync_version(deleted.updated_at));
        entry.tombstone_change = Some(Some(deleted));
        Ok(())
    }

    async fn insert(&mut self, op: &Upsert, _types: &ColumnTypes) -> Result<(), WriteError> {
        let entry = self.entry(&op.table, op.key, &op.key_column);
        entry.version = Some(sync_version(op.updated_at));
        // A row deleted earlier in the batch and inserted again ends as a whole new set of values.
        entry.columns = None;
        merge(&mut entry.columns, &op.columns);
        Ok(())
    }

    async fn update(&mut self, op: &Upsert, _types: &ColumnTypes) -> Result<(), WriteError> {
        let entry = self.entry(&op.table, op.key, &op.key_column);
        entry.version = Some(sync_version(op.updated_at));
        merge(&mut entry.columns, &op.columns);
        Ok(())
    }

    async fn delete(&mut self, op: &Delete) -> Result<(), WriteError> {
        let entry = self.entry(&op.table, op.key, &op.key_column);
        entry.deleted_row = entry.version.take();
        entry.deleted_in_batch = true;
        entry.columns = None;
        // As the table's AFTER DELETE trigger would.
        entry.tombstone = Some(sync_version(Utc::now()));
        Ok(())
    }
}
