//! Looking at a list of rows on both sides by key (no `since` filter: a row's other copy may be older), and judging
//! whether they differ. A look keeps each side's raw JSON text, so a later look can tell whether either copy changed
//! in between.

use super::error::VerifyError;
use super::normalize::{Normalizer, Payload};
use super::source::Reader;
use crate::mapping::Entity;
use std::collections::HashMap;

/// Both copies of one row at one moment (`None`: absent on that side).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Look {
    pub legacy: Option<String>,
    pub revamp: Option<String>,
}

impl Look {
    /// Whether the sync would change either copy: present on one side only, or not equivalent.
    pub fn differs(&self, normalizer: &Normalizer<'_>, key: i64) -> bool {
        match (&self.legacy, &self.revamp) {
            (None, None) => false,
            (Some(legacy), Some(revamp)) => match (parse(legacy), parse(revamp)) {
                (Some(l), Some(r)) => !normalizer.equivalent(key, &l, &r),
                _ => true,
            },
            _ => true,
        }
    }
}

/// A row's JSON text as a payload.
pub(crate) fn parse(json: &str) -> Option<Payload> {
    serde_json::from_str(json).ok()
}

/// Both sides' copies of `keys`, read concurrently.
pub(crate) async fn look(
    legacy: &Reader,
    revamp: &Reader,
    entity: &Entity,
    keys: &[i64],
) -> Result<HashMap<i64, Look>, VerifyError> {
    let (mut l, mut r) =
        tokio::try_join!(legacy.by_keys(entity, keys), revamp.by_keys(entity, keys))?;
    Ok(keys
        .iter()
        .map(|key| {
            (
                *key,
                Look {
                    legacy: l.remove(key),
                    revamp: r.remove(key),
                },
            )
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::Mapping;

    #[test]
    fn one_sided_rows_differ_and_vanished_ones_do_not() {
        let mapping = Mapping::from_toml_str(include_str!("../../mapping/default.toml")).unwrap();
        let n = Normalizer {
            mapping: &mapping,
            entity: mapping.entity("like").unwrap(),
        };
        let legacy = r#"{"id": 3, "user_id": 1, "post_id": 2, "created_at": "2026-01-01T00:00:00+00:00",
            "updated_at": "2026-01-01T00:00:00+00:00", "source": "legacy"}"#;
        let revamp = r#"{"id": 3, "user_id": 1, "post_id": 2, "liked_at": "2026-01-01 00:00:00.000000",
            "updated_at": "2026-01-01 00:00:00.000000", "source": "sync_service"}"#;
        let both = |l: Option<&str>, r: Option<&str>| Look {
            legacy: l.map(str::to_string),
            revamp: r.map(str::to_string),
        };
        assert!(!both(Some(legacy), Some(revamp)).differs(&n, 3));
        assert!(both(Some(legacy), None).differs(&n, 3));
        assert!(both(None, Some(revamp)).differs(&n, 3));
        assert!(!both(None, None).differs(&n, 3));
        assert!(both(Some("not json"), Some(revamp)).differs(&n, 3));
    }
}
