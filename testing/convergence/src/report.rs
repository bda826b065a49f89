//! The report, after the header line `main` prints first (seed, N, workers): generator speed, time to converge,
//! events expected and published per topic, dead letters, per-table counts and checksums, the first differing rows;
//! then one line per check and the closing `test-convergence: P passed, F failed`.

use crate::compare::Table;
use crate::execute::Tally;
use std::time::Duration;

/// Everything the run measured.
pub struct Report {
    /// What the workers did.
    pub tally: Tally,
    /// How long the generator ran.
    pub generate_time: Duration,
    /// Ids this run created per entity, and how many its state still held at the end.
    pub made: String,
    /// Whether both consumers went idle with identical databases before the deadline.
    pub converged: bool,
    /// From the end of the generator to idle (or to the deadline).
    pub converge_time: Duration,
    /// The deadline.
    pub deadline: Duration,
    /// Per topic: name, events expected, events published.
    pub topics: Vec<(String, u64, i64)>,
    /// The dead-letter topic and how many messages it gained.
    pub dlq: (String, i64),
    /// The first new dead letters: key, reason and error message.
    pub dead_letters: Vec<String>,
    /// What decides pass or fail, e.g. "rows created by this run".
    pub scope: String,
    /// The comparison in scope.
    pub tables: Vec<Table>,
    /// The comparison of every row (information), when the scope is narrower.
    pub all_tables: Option<Vec<Table>>,
}

impl Report {
    /// Prints the report; returns (passed, failed).
    pub fn print(&self) -> (usize, usize) {
        let t = &self.tally;
        let ops: u64 = t.kinds.values().map(|k| k.ops).sum();
        let secs = self.generate_time.as_secs_f64();
        println!(
            "generator: {ops} operations in {secs:.1} s ({:.0} ops/s), {} writes retried after a deadlock, {} errors",
            ops as f64 / secs.max(0.001),
            t.retries,
            t.errors.len()
        );
        println!(
            "  {:<27} {:>6} {:>7} {:>10} {:>7}",
            "operation", "ops", "events", "no target", "missed"
        );
        for (kind, k) in &t.kinds {
            println!(
                "  {:<27} {:>6} {:>7} {:>10} {:>7}",
                kind.name(),
                k.ops,
                k.events,
                k.no_target,
                k.missed
            );
        }
        println!("  {}", self.made);
        for error in t.errors.iter().take(5) {
            println!("  error: {error}");
        }
        println!(
            "convergence: {} after {:.1} s (deadline {} s)",
            if self.converged {
                "both consumers idle, databases identical"
            } else {
                "NOT converged"
            },
            self.converge_time.as_secs_f64(),
            self.deadline.as_secs()
        );
        for (topic, expected, got) in &self.topics {
            println!("events: {topic}: expected {expected} (application writes), published {got}");
        }
        println!("dead letters: {}: {:+}", self.dlq.0, self.dlq.1);
        for letter in &self.dead_letters {
            println!("  {letter}");
        }
        println!("tables ({}):", self.scope);
        print_tables(&self.tables);
        if let Some(all) = &self.all_tables {
            println!("tables (every row, for information; other suites' rows included):");
            print_tables(all);
        }

        let mut checks: Vec<(bool, String)> = vec![
            (
                t.errors.is_empty(),
                format!(
                    "generator: no unexpected database errors ({})",
                    t.errors.len()
                ),
            ),
            (
                self.converged,
                format!(
                    "both consumers idle and databases identical within {} s",
                    self.deadline.as_secs()
                ),
            ),
        ];
        for table in &self.tables {
            checks.push((
                table.matches(),
                format!(
                    "{}: same rows on both sides through the mapping ({} / {} rows, {} differing)",
                    table.entity, table.legacy_rows, table.revamp_rows, table.differing
                ),
            ));
        }
        for (topic, expected, got) in &self.topics {
            checks.push((
                *got == *expected as i64,
                format!("{topic}: one event per application write, no echo ({got} of {expected})"),
            ));
        }
        checks.push((
            self.dlq.1 == 0,
            format!("{}: nothing dead-lettered ({:+})", self.dlq.0, self.dlq.1),
        ));
        let failed = checks.iter().filter(|(ok, _)| !ok).count();
        for (ok, what) in &checks {
            println!("  {}  {what}", if *ok { "ok  " } else { "FAIL" });
        }
        (checks.len() - failed, failed)
    }
}

fn print_tables(tables: &[Table]) {
    println!(
        "  {:<6} {:<32} {:>8} {:>8} {:>17} {:>17} {:>9}",
        "entity", "tables", "legacy", "revamp", "legacy checksum", "revamp checksum", "differing"
    );
    for table in tables {
        println!(
            "  {:<6} {:<32} {:>8} {:>8} {:>17} {:>17} {:>9}",
            table.entity,
            table.tables,
            table.legacy_rows,
            table.revamp_rows,
            format!("{:016x}", table.legacy_sum),
            format!("{:016x}", table.revamp_sum),
            table.differing
        );
    }
    for table in tables {
        for diff in &table.diffs {
            println!("  differs: {} id {}", table.entity, diff.id);
            println!(
                "    legacy: {}",
                diff.legacy.as_deref().unwrap_or("(no row)")
            );
            println!(
                "    revamp: {}",
                diff.revamp.as_deref().unwrap_or("(no row)")
            );
        }
    }
}
