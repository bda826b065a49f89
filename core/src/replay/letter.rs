//! What a dead letter's headers say about where it goes back to, and whether this replay sends it. Pure: no Kafka
//! client here, so the rules are unit-tested on plain header lists.

/// Header naming the topic the message was first consumed from (Kafka Connect's name, written by [`crate::dlq`]).
pub const TOPIC_HEADER: &str = "__connect.errors.topic";
/// Header naming the partition the message was first consumed from.
pub const PARTITION_HEADER: &str = "__connect.errors.partition";
/// Header with dbsync's reason for dead-lettering (a [`DeadLetterReason`](crate::error::DeadLetterReason)).
pub const REASON_HEADER: &str = "dbsync.reason";
/// The one header a replayed message carries: `<dead-letter topic>/<partition>/<offset>` it was replayed from.
pub const REPLAYED_FROM_HEADER: &str = "dbsync.replayed_from";
/// The reason counted (and filtered on) for a dead letter without `dbsync.reason`, e.g. one written by Kafka
/// Connect itself.
pub const NO_REASON: &str = "unknown";

/// The headers of one dead letter that replay reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Letter {
    /// The topic to send the message back to; `None` when the header is absent, empty or not UTF-8.
    pub topic: Option<String>,
    /// The partition it came from, when the header holds a partition number.
    pub partition: Option<i32>,
    /// `dbsync.reason`, or [`NO_REASON`].
    pub reason: String,
}

/// What one replay does with one dead letter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Send it back to `topic`.
    Replay {
        /// The original topic.
        topic: String,
    },
    /// Selected, but there is nowhere to send it: skipped for good.
    NoTarget,
    /// Its reason is not among those asked for: skipped this time, left for a later replay.
    LeftOut,
}

impl Letter {
    /// Reads the headers that matter; when a header repeats, the last one counts (as Kafka's `lastHeader`).
    pub fn from_headers<'a>(
        headers: impl IntoIterator<Item = (&'a str, Option<&'a [u8]>)>,
    ) -> Self {
        let mut letter = Letter {
            topic: None,
            partition: None,
            reason: NO_REASON.to_string(),
        };
        for (name, value) in headers {
            let text = value
                .and_then(|v| std::str::from_utf8(v).ok())
                .map(str::trim)
                .filter(|t| !t.is_empty());
            match name {
                TOPIC_HEADER => letter.topic = text.map(str::to_string),
                PARTITION_HEADER => letter.partition = text.and_then(|t| t.parse().ok()),
                REASON_HEADER => letter.reason = text.unwrap_or(NO_REASON).to_string(),
                _ => {}
            }
        }
        letter
    }

    /// Reads the headers of a dead letter as consumed.
    pub fn of(message: &impl rdkafka::message::Message) -> Self {
        use rdkafka::message::Headers as _;
        Letter::from_headers(
            message
                .headers()
                .into_iter()
                .flat_map(|headers| headers.iter())
                .map(|header| (header.key, header.value)),
        )
    }

    /// Selected when `reasons` is empty (no filter) or names this letter's reason.
    pub fn action(&self, reasons: &[String]) -> Action {
        if !reasons.is_empty() && !reasons.iter().any(|r| r.trim() == self.reason) {
            return Action::LeftOut;
        }
        match &self.topic {
            Some(topic) => Action::Replay {
                topic: topic.clone(),
            },
            None => Action::NoTarget,
        }
    }

    /// The original partition if the topic still has it (keeping a key beside its other events); otherwise the
    /// producer's key partitioner chooses.
    pub fn partition_within(&self, partition_count: usize) -> Option<i32> {
        self.partition
            .filter(|p| usize::try_from(*p).is_ok_and(|p| p < partition_count))
    }
}

/// The value of [`REPLAYED_FROM_HEADER`].
pub fn replayed_from(dlq_topic: &str, partition: i32, offset: i64) -> String {
    format!("{dlq_topic}/{partition}/{offset}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn letter(headers: &[(&str, &str)]) -> Letter {
        Letter::from_headers(headers.iter().map(|(k, v)| (*k, Some(v.as_bytes()))))
    }

    fn reasons(list: &[&str]) -> Vec<String> {
        list.iter().map(|r| r.to_string()).collect()
    }

    #[test]
    fn reads_target_partition_and_reason() {
        let letter = letter(&[
            ("__connect.errors.topic", "legacy.events"),
            ("__connect.errors.partition", "2"),
            ("__connect.errors.offset", "41"),
            ("dbsync.reason", "parent_missing"),
            ("dbsync.attempts", "3"),
        ]);
        assert_eq!(
            letter,
            Letter {
                topic: Some("legacy.events".into()),
                partition: Some(2),
                reason: "parent_missing".into(),
            }
        );
    }

    #[test]
    fn missing_empty_or_unreadable_headers_mean_unknown() {
        let empty = letter(&[("__connect.errors.topic", " "), ("dbsync.reason", "")]);
        assert_eq!(empty.topic, None);
        assert_eq!(empty.reason, NO_REASON);
        let garbage = Letter::from_headers([
            ("__connect.errors.topic", Some(&[0xff, 0xfe][..])),
            ("__connect.errors.partition", Some(&b"two"[..])),
            ("dbsync.reason", None),
        ]);
        assert_eq!((garbage.topic, garbage.partition), (None, None));
        assert_eq!(garbage.reason, NO_REASON);
    }

    #[test]
    fn the_last_of_repeated_headers_counts() {
        let letter = letter(&[
            ("__connect.errors.topic", "old.events"),
            ("__connect.errors.topic", "legacy.events"),
        ]);
        assert_eq!(letter.topic.as_deref(), Some("legacy.events"));
    }

    #[test]
    fn without_a_filter_every_letter_with_a_target_is_replayed() {
        let with_target = letter(&[("__connect.errors.topic", "revamp.events")]);
        assert_eq!(
            with_target.action(&[]),
            Action::Replay {
                topic: "revamp.events".into()
            }
        );
        assert_eq!(
            letter(&[("dbsync.reason", "malformed")]).action(&[]),
            Action::NoTarget
        );
    }

    #[test]
    fn a_filter_leaves_other_reasons_out_before_looking_for_a_target() {
        let malformed = letter(&[
            ("__connect.errors.topic", "legacy.events"),
            ("dbsync.reason", "malformed"),
        ]);
        let filter = reasons(&["parent_missing", "unmappable"]);
        assert_eq!(malformed.action(&filter), Action::LeftOut);
        assert_eq!(
            malformed.action(&reasons(&[" malformed "])),
            Action::Replay {
                topic: "legacy.events".into()
            }
        );
        let no_target = letter(&[("dbsync.reason", "malformed")]);
        assert_eq!(no_target.action(&filter), Action::LeftOut);
        assert_eq!(no_target.action(&reasons(&["malformed"])), Action::NoTarget);
        assert_eq!(
            letter(&[("__connect.errors.topic", "t")]).action(&reasons(&[NO_REASON])),
            Action::Replay { topic: "t".into() }
        );
    }

    #[test]
    fn the_original_partition_is_kept_only_if_the_topic_still_has_it() {
        let letter = letter(&[("__connect.errors.partition", "2")]);
        assert_eq!(letter.partition_within(3), Some(2));
        assert_eq!(letter.partition_within(2), None);
        let negative = Letter {
            partition: Some(-1),
            ..letter
        };
        assert_eq!(negative.partition_within(3), None);
    }

    #[test]
    fn replayed_from_names_topic_partition_and_offset() {
        assert_eq!(replayed_from("sync.dlq", 1, 17), "sync.dlq/1/17");
    }
}
