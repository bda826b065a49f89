//! Walking one entity on both sides in key order, chunk by chunk. A reader task per side fetches pages, normalizes
//! each row ([`Normalizer::canonical`]) and hashes it, a page ahead of the comparison (bounded channels keep memory
//! at a few pages per side, whatever the table's size); the walk cuts aligned chunks, compares their hashes and
//! narrows a differing chunk down to its keys (`narrow`).

use super::error::VerifyError;
use super::hash;
use super::narrow::{self, Buffer};
use super::normalize::{Normalizer, Payload};
use super::source::{Reader, Scope};
use crate::event::Side;
use crate::mapping::Mapping;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;
use tokio::sync::mpsc;

/// A page of `(key, row hash)` pairs and whether it is the side's last.
type Page = Result<(Vec<(i64, u64)>, bool), VerifyError>;

/// Pages buffered ahead of the comparison, per side.
const PAGES_AHEAD: usize = 2;

/// What one chunk showed.
pub(crate) struct Chunk {
    /// Distinct keys in the chunk.
    pub rows: u64,
    /// Whether its hashes differed.
    pub differing: bool,
    /// The keys whose rows differ (or exist on one side only).
    pub suspects: Vec<i64>,
}

struct Feed {
    pages: mpsc::Receiver<Page>,
    buffer: Buffer,
}

impl Feed {
    async fn fill(&mut self) -> Result<(), VerifyError> {
        while self.buffer.needs_page() {
            match self.pages.recv().await {
                Some(page) => {
                    let (rows, last) = page?;
                    self.buffer.push(rows, last);
                }
                None => self.buffer.push(Vec::new(), true),
            }
        }
        Ok(())
    }
}

/// One entity's walk over both sides.
pub(crate) struct Walk {
    legacy: Feed,
    revamp: Feed,
}

impl Walk {
    /// Starts both sides' reader tasks on `runtime`.
    pub fn start(
        runtime: &tokio::runtime::Handle,
        readers: [Reader; 2],
        mapping: Arc<Mapping>,
        entity: &str,
        scope: Scope,
        chunk_size: i64,
    ) -> Self {
        let [legacy, revamp] = readers.map(|reader| {
            let (tx, rx) = mpsc::channel(PAGES_AHEAD);
            runtime.spawn(read_side(
                reader,
                Arc::clone(&mapping),
                entity.to_string(),
                scope,
                chunk_size,
                tx,
            ));
            Feed {
                pages: rx,
                buffer: Buffer::default(),
            }
        });
        Walk { legacy, revamp }
    }

    /// The next chunk; `None` once both sides are read to their end.
    pub async fn next(&mut self) -> Result<Option<Chunk>, VerifyError> {
        self.legacy.fill().await?;
        self.revamp.fill().await?;
        if self.legacy.buffer.exhausted() && self.revamp.buffer.exhausted() {
            return Ok(None);
        }
        let (legacy, revamp) = narrow::next_chunk(&mut self.legacy.buffer, &mut self.revamp.buffer);
        if hash::chunk(&legacy) == hash::chunk(&revamp) {
            return Ok(Some(Chunk {
                rows: legacy.len() as u64,
                differing: false,
                suspects: Vec::new(),
            }));
        }
        let (suspects, rows) = narrow::differing(&legacy, &revamp);
        Ok(Some(Chunk {
            rows: rows as u64,
            differing: true,
            suspects,
        }))
    }
}

/// Reads `entity` on one side page by page, hashing each row's normalized form, until the scope's end.
async fn read_side(
    reader: Reader,
    mapping: Arc<Mapping>,
    entity: String,
    scope: Scope,
    chunk_size: i64,
    pages: mpsc::Sender<Page>,
) {
    let Some(entity) = mapping.entity(&entity) else {
        return;
    };
    let normalizer = Normalizer {
        mapping: &mapping,
        entity,
    };
    let side = reader.side();
    let mut from = scope.min_key;
    loop {
        let rows = match reader.page(entity, &scope, from, chunk_size).await {
            Ok(rows) => rows,
            Err(error) => {
                let _ = pages.send(Err(error)).await;
                return;
            }
        };
        let next = rows.last().map(|(key, _)| *key);
        let last = (rows.len() as i64) < chunk_size || next.is_none_or(|k| k >= scope.max_key);
        let hashed = rows
            .into_iter()
            .map(|(key, json)| (key, row_hash(&normalizer, side, key, &json)))
            .collect();
        if pages.send(Ok((hashed, last))).await.is_err() || last {
            return;
        }
        from = next.map_or(scope.max_key, |k| k + 1);
    }
}

/// The hash of a row's normalized form; a row that cannot be normalized hashes its raw text instead (so it differs
/// from whatever the other side holds and is looked at again).
pub(crate) fn row_hash(normalizer: &Normalizer<'_>, side: Side, key: i64, json: &str) -> u64 {
    let canonical = serde_json::from_str::<Payload>(json)
        .map_err(|e| e.to_string())
        .and_then(|payload| normalizer.canonical(side, key, payload));
    match canonical {
        Ok(values) => hash::row(key, &values),
        Err(_) => {
            let mut hasher = DefaultHasher::new();
            (side, key, json).hash(&mut hasher);
            hasher.finish()
        }
    }
}
