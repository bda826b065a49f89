//! Pruning of the target's expired ledger rows and tombstones, from the consumer's loop, in bounded steps: each
//! step deletes at most `PRUNE_CHUNK` rows of each kind in its own short transaction, a turn takes steps for at most
//! `PRUNE_BUDGET`, and a turn that left expired rows behind is followed by another a second later. So a backlog
//! of expired rows (a consumer that was down for days, a first run after raising the retention) never holds the
//! loop, its stop or the batches' row locks for longer than a turn. A turn waits for the batches in flight to land
//! (it would stall them, on the loop's one thread, with their transactions open) and starts none meanwhile.

use super::Consumer;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use tracing::{debug, warn};

/// How often the target is pruned when the previous turn removed everything expired.
const PRUNE_INTERVAL: Duration = Duration::from_secs(300);
/// How soon the next turn comes when the previous one left expired rows behind.
const PRUNE_RESUME: Duration = Duration::from_secs(1);
/// The most rows of each kind one step deletes.
const PRUNE_CHUNK: u32 = 5_000;
/// How long one turn keeps taking steps.
const PRUNE_BUDGET: Duration = Duration::from_millis(250);

/// When the next pruning turn is due.
pub(super) struct PruneSchedule {
    next: Instant,
}

impl PruneSchedule {
    /// The first turn is due at once.
    pub fn new() -> Self {
        Self {
            next: Instant::now(),
        }
    }

    /// Whether a turn is due.
    pub fn due(&self) -> bool {
        Instant::now() >= self.next
    }
}

impl Consumer {
    /// Takes a pruning turn if one is due.
    pub(super) async fn prune_if_due(&self, schedule: &mut PruneSchedule) {
        if Instant::now() < schedule.next {
            return;
        }
        let more = self.prune_turn().await;
        schedule.next = Instant::now() + if more { PRUNE_RESUME } else { PRUNE_INTERVAL };
    }

    /// Prunes in steps until nothing expired is left, the budget is spent or the consumer is asked to stop.
    /// Returns whether expired rows may remain. A failure is logged and waits for the next regular turn.
    async fn prune_turn(&self) -> bool {
        let age = Duration::from_secs(self.config.ledger_retention_hours * 3600);
        let started = Instant::now();
        let (mut ledger, mut tombstones) = (0, 0);
        let more = loop {
            match self.target.prune(age, PRUNE_CHUNK).await {
                Ok(step) => {
                    ledger += step.ledger;
                    tombstones += step.tombstones;
                    if !step.filled(PRUNE_CHUNK) {
                        break false;
                    }
                }
                Err(error) => {
                    warn!(%error, "could not prune the ledger and tombstones");
                    break false;
                }
            }
            if started.elapsed() >= PRUNE_BUDGET || self.stop.load(Ordering::SeqCst) {
                break true;
            }
        };
        debug!(
            ledger,
            tombstones, more, "pruned expired ledger rows and tombstones"
        );
        more
    }
}
