//! The mapping file: which table and columns on the legacy side correspond to which on the revamp side, and how
//! values convert. Loaded once, validated with errors that name the bad entry (`entities.user.columns[3]: ...`);
//! after that every lookup is infallible. The file format is documented in `core/mapping/default.toml`.

mod validate;

use crate::event::Side;
use std::fmt;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// The mapping format version this build reads (the file's top-level `version`).
pub const MAPPING_FORMAT_VERSION: u32 = 1;

/// The mapping file cannot be used.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum MappingError {
    /// The file cannot be read.
    #[error("cannot read mapping file `{}`: {source}", path.display())]
    Read {
        /// The path as given.
        path: PathBuf,
        /// What the file system said.
        #[source]
        source: std::io::Error,
    },
    /// The text is not TOML, or not of the mapping's shape (unknown or mistyped keys).
    #[error("mapping is not valid: {source}")]
    Parse {
        /// The parser's message, with line and column.
        #[source]
        source: toml::de::Error,
    },
    /// An entry breaks a rule; `at` names it as the file does, e.g. `entities.user.columns[3]`.
    #[error("{at}: {reason}")]
    Invalid {
        /// Path of the offending entry.
        at: String,
        /// What is wrong and what would be accepted.
        reason: String,
    },
}

/// How concurrent changes of one row on both sides are settled (README, "How it stays correct: Conflicts converge").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ConflictPolicy {
    /// The newer `updated_at` wins; legacy wins ties.
    #[default]
    LastWriterWins,
    /// A legacy change always wins; a revamp change applies only where legacy has not changed the row later.
    LegacyWins,
    /// The mirror image of `LegacyWins`.
    RevampWins,
}

impl ConflictPolicy {
    /// The spelling used in the mapping file.
    pub fn as_str(self) -> &'static str {
        match self {
            ConflictPolicy::LastWriterWins => "last_writer_wins",
            ConflictPolicy::LegacyWins => "legacy_wins",
            ConflictPolicy::RevampWins => "revamp_wins",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        [Self::LastWriterWins, Self::LegacyWins, Self::RevampWins]
            .into_iter()
            .find(|policy| policy.as_str() == text)
    }
}

/// One side's value in a `value_map` pair.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum MapValue {
    /// An integer, e.g. a TINYINT status code.
    Int(i64),
    /// A string, e.g. a text status or an ENUM label.
    Text(String),
}

impl fmt::Display for MapValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MapValue::Int(n) => write!(f, "{n}"),
            MapValue::Text(s) => write!(f, "{s:?}"),
        }
    }
}

/// How a column's value changes on its way between the sides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Convert {
    /// Copied as is.
    None,
    /// Legacy boolean, revamp 0/1.
    BoolInt,
    /// Legacy ISO-8601 with offset, revamp epoch microseconds (DATETIME(6), UTC).
    Timestamp,
    /// A fixed table of `(legacy, revamp)` pairs, unique both ways.
    ValueMap(Vec<(MapValue, MapValue)>),
    /// Legacy full name, revamp first and last name (the column's two revamp names, in that order).
    SplitName,
}

impl Convert {
    /// The spelling used in the mapping file.
    pub fn as_str(&self) -> &'static str {
        match self {
            Convert::None => "none",
            Convert::BoolInt => "bool_int",
            Convert::Timestamp => "timestamp",
            Convert::ValueMap(_) => "value_map",
            Convert::SplitName => "split_name",
        }
    }
}

/// One synced column (or, for `split_name`, one legacy column and two revamp columns).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    legacy: String,
    revamp: Vec<String>,
    convert: Convert,
    references: Option<String>,
}

impl Column {
    /// The column's names on `side`: one, or two on the revamp side for `split_name`.
    pub fn names(&self, side: Side) -> &[String] {
        match side {
            Side::Legacy => std::slice::from_ref(&self.legacy),
            Side::Revamp => &self.revamp,
        }
    }

    /// The converter.
    pub fn convert(&self) -> &Convert {
        &self.convert
    }

    /// The parent entity, if the column is a foreign key.
    pub fn references(&self) -> Option<&str> {
        self.references.as_deref()
    }

    /// A short label for messages: `legacy_name -> revamp_name(s)`.
    pub fn label(&self) -> String {
        format!("{} -> {}", self.legacy, self.revamp.join("+"))
    }
}

/// One entity (`user`, `post`, `like`): a table on each side and its synced columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entity {
    name: String,
    legacy_table: String,
    revamp_table: String,
    key: String,
    updated_at: [String; 2],
    conflict: ConflictPolicy,
    parents: Vec<String>,
    columns: Vec<Column>,
}

impl Entity {
    /// The entity's name, as events carry it in `entity_type`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The entity's table on `side`.
    pub fn table(&self, side: Side) -> &str {
        match side {
            Side::Legacy => &self.legacy_table,
            Side::Revamp => &self.revamp_table,
        }
    }

    /// The primary key column, the same name on both sides.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The column last-writer-wins compares on `side`.
    pub fn updated_at(&self, side: Side) -> &str {
        match side {
            Side::Legacy => &self.updated_at[0],
            Side::Revamp => &self.updated_at[1],
        }
    }

    /// How conflicts on this entity are settled.
    pub fn conflict(&self) -> ConflictPolicy {
        self.conflict
    }

    /// Entities this one references; they are applied first.
    pub fn parents(&self) -> &[String] {
        &self.parents
    }

    /// The synced columns, in file order.
    pub fn column_mappings(&self) -> &[Column] {
        &self.columns
    }

    /// Every synced column name on `side`, in file order (to check against the live schema).
    pub fn columns(&self, side: Side) -> Vec<&str> {
        self.columns
            .iter()
            .flat_map(|column| column.names(side))
            .map(String::as_str)
            .collect()
    }
}

/// A child entity and the foreign key column through which it references a parent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChildLink<'a> {
    /// The referencing entity.
    pub child: &'a Entity,
    /// The foreign key column.
    pub column: &'a Column,
}

impl<'a> ChildLink<'a> {
    /// The foreign key column's name on `side`.
    pub fn column_name(&self, side: Side) -> &'a str {
        // Validation allows `references` only on single-name columns, so the first name is the only one.
        self.column
            .names(side)
            .first()
            .map(String::as_str)
            .unwrap_or_default()
    }
}

/// A validated mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    version: u32,
    /// Parents first, ties by name.
    entities: Vec<Entity>,
}

impl Mapping {
    /// Reads and validates a mapping file.
    pub fn from_path(path: impl AsRef<Path>) -> Result<Self, MappingError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| MappingError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_toml_str(&text)
    }

    /// Parses and validates mapping text.
    pub fn from_toml_str(text: &str) -> Result<Self, MappingError> {
        validate::parse(text)
    }

    /// The mapping format version (always [`MAPPING_FORMAT_VERSION`] once loaded).
    pub fn version(&self) -> u32 {
        self.version
    }

    /// The entity named `name`.
    pub fn entity(&self, name: &str) -> Option<&Entity> {
        self.entities.iter().find(|entity| entity.name == name)
    }

    /// The entity whose table on `side` is `table`.
    pub fn entity_for_table(&self, side: Side, table: &str) -> Option<&Entity> {
        self.entities
            .iter()
            .find(|entity| entity.table(side) == table)
    }

    /// All entities, parents before children (ties by name).
    pub fn entities(&self) -> &[Entity] {
        &self.entities
    }

    /// All entities, parents before children: the order to create in (reverse it to delete).
    pub fn topological_order(&self) -> Vec<&Entity> {
        self.entities.iter().collect()
    }

    /// Entities with a foreign key to `parent`, each with its FK column, in topological order.
    pub fn children_of(&self, parent: &str) -> Vec<ChildLink<'_>> {
        self.entities
            .iter()
            .flat_map(|child| {
                child
                    .columns
                    .iter()
                    .filter(|column| column.references() == Some(parent))
                    .map(move |column| ChildLink { child, column })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests;
