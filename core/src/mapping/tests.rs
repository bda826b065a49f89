use super::*;

const DEFAULT: &str = include_str!("../../mapping/default.toml");

fn default_mapping() -> Mapping {
    Mapping::from_toml_str(DEFAULT).unwrap()
}

/// A small valid mapping that the error tests break one entry at a time.
const SMALL: &str = r#"
version = 1
[entities.user]
legacy_table = "legacy_users"
revamp_table = "revamp_users"
key = "id"
updated_at = { legacy = "updated_at", revamp = "updated_at" }
columns = [
  { legacy = "id", revamp = "id" },
  { legacy = "status", revamp = "status", convert = "value_map", values = [["active", 1], ["banned", 2]] },
  { legacy = "updated_at", revamp = "updated_at", convert = "timestamp" },
]
[entities.post]
legacy_table = "legacy_posts"
revamp_table = "revamp_posts"
key = "id"
updated_at = { legacy = "updated_at", revamp = "updated_at" }
parents = ["user"]
columns = [
  { legacy = "id", revamp = "id" },
  { legacy = "author_id", revamp = "user_id", references = "user" },
  { legacy = "updated_at", revamp = "updated_at", convert = "timestamp" },
]
"#;

/// Replaces `from` (which must occur) in [`SMALL`] and returns the load error's text.
fn error_after(from: &str, to: &str) -> String {
    assert!(SMALL.contains(from), "test setup: {from:?} not in SMALL");
    match Mapping::from_toml_str(&SMALL.replacen(from, to, 1)) {
        Ok(_) => panic!("replacing {from:?} by {to:?} should fail"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn small_mapping_is_valid() {
    Mapping::from_toml_str(SMALL).unwrap();
}

#[test]
fn default_mapping_loads_from_file() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/mapping/default.toml");
    let mapping = Mapping::from_path(path).unwrap();
    assert_eq!(mapping, default_mapping());
    assert_eq!(mapping.version(), MAPPING_FORMAT_VERSION);
}

#[test]
fn missing_file_names_the_path() {
    let err = Mapping::from_path("/nonexistent/dbsync.toml").unwrap_err();
    assert!(matches!(err, MappingError::Read { .. }));
    assert!(err.to_string().contains("/nonexistent/dbsync.toml"));
}

#[test]
fn tables_resolve_to_entities_on_each_side() {
    let mapping = default_mapping();
    for (legacy, revamp, name) in [
        ("legacy_users", "revamp_users", "user"),
        ("legacy_posts", "revamp_posts", "post"),
        ("legacy_likes", "revamp_post_likes", "like"),
    ] {
        assert_eq!(
            mapping
                .entity_for_table(Side::Legacy, legacy)
                .unwrap()
                .name(),
            name
        );
        assert_eq!(
            mapping
                .entity_for_table(Side::Revamp, revamp)
                .unwrap()
                .name(),
            name
        );
        assert!(mapping.entity_for_table(Side::Revamp, legacy).is_none());
        let entity = mapping.entity(name).unwrap();
        assert_eq!(
            (entity.table(Side::Legacy), entity.table(Side::Revamp)),
            (legacy, revamp)
        );
        assert_eq!(entity.key(), "id");
        assert_eq!(entity.conflict(), ConflictPolicy::LastWriterWins);
    }
    assert!(mapping.entity("comment").is_none());
    let like = mapping.entity("like").unwrap();
    assert_eq!(like.updated_at(Side::Revamp), "updated_at");
    assert_eq!(like.parents(), ["user", "post"]);
}

#[test]
fn columns_list_every_name_per_side() {
    let user = default_mapping().entity("user").cloned().unwrap();
    assert_eq!(
        user.columns(Side::Legacy),
        [
            "id",
            "username",
            "email",
            "full_name",
            "status",
            "is_admin",
            "created_at",
            "updated_at"
        ]
    );
    assert_eq!(
        user.columns(Side::Revamp),
        [
            "id",
            "user_name",
            "email_address",
            "first_name",
            "last_name",
            "status",
            "is_admin",
            "created_at",
            "updated_at"
        ]
    );
    let status = &user.column_mappings()[4];
    assert_eq!(status.label(), "status -> status");
    let Convert::ValueMap(pairs) = status.convert() else {
        panic!("status is a value_map")
    };
    assert_eq!(
        pairs[0],
        (MapValue::Text("inactive".into()), MapValue::Int(0))
    );
}

#[test]
fn entities_come_parents_first() {
    let mapping = default_mapping();
    let order: Vec<&str> = mapping
        .topological_order()
        .iter()
        .map(|e| e.name())
        .collect();
    assert_eq!(order, ["user", "post", "like"]);
}

#[test]
fn children_carry_their_foreign_key_per_side() {
    let mapping = default_mapping();
    let links: Vec<(&str, &str, &str)> = mapping
        .children_of("user")
        .iter()
        .map(|l| {
            (
                l.child.name(),
                l.column_name(Side::Legacy),
                l.column_name(Side::Revamp),
            )
        })
        .collect();
    assert_eq!(
        links,
        [
            ("post", "author_id", "user_id"),
            ("like", "user_id", "user_id")
        ]
    );
    let links = mapping.children_of("post");
    assert_eq!(links.len(), 1);
    assert_eq!(
        (links[0].child.name(), links[0].column_name(Side::Revamp)),
        ("like", "post_id")
    );
    assert!(mapping.children_of("like").is_empty());
}

#[test]
fn version_must_be_one() {
    assert!(
        error_after("version = 1", "version = 2").starts_with("version: mapping format version 2")
    );
    assert!(error_after("version = 1", "").starts_with("version: required"));
}

#[test]
fn value_map_needs_values() {
    let err = error_after(r#", values = [["active", 1], ["banned", 2]]"#, "");
    assert_eq!(
        err,
        "entities.user.columns[1]: convert = value_map needs `values` = [[legacy, revamp], ...]"
    );
}

#[test]
fn value_map_pairs_are_unique_both_ways() {
    let err = error_after(r#"["banned", 2]"#, r#"["active", 2]"#);
    assert_eq!(
        err,
        "entities.user.columns[1].values[1]: legacy value \"active\" appears twice"
    );
    let err = error_after(r#"["banned", 2]"#, r#"["banned", 1]"#);
    assert_eq!(
        err,
        "entities.user.columns[1].values[1]: revamp value 1 appears twice"
    );
    let err = error_after(r#"["banned", 2]"#, r#"["banned"]"#);
    assert!(
        err.starts_with("entities.user.columns[1].values[1]: a pair needs two values"),
        "{err}"
    );
    let err = error_after(r#"["banned", 2]"#, r#"["banned", 2.5]"#);
    assert!(
        err.starts_with("entities.user.columns[1].values[1][1]: "),
        "{err}"
    );
}

#[test]
fn values_need_value_map() {
    let err = error_after(r#"convert = "value_map", "#, "");
    assert_eq!(
        err,
        "entities.user.columns[1]: `values` needs convert = value_map, not none"
    );
}

#[test]
fn identifiers_must_be_sql_safe() {
    let err = error_after(r#""legacy_users""#, r#""legacy_users; drop table x""#);
    assert!(err.starts_with(
        "entities.user.legacy_table: `legacy_users; drop table x` is not a plain SQL"
    ));
    let err = error_after(r#"legacy = "author_id""#, r#"legacy = "1author""#);
    assert!(
        err.starts_with("entities.post.columns[1].legacy: "),
        "{err}"
    );
    let err = error_after(r#"revamp = "user_id""#, r#"revamp = """#);
    assert!(
        err.starts_with("entities.post.columns[1].revamp[0]: "),
        "{err}"
    );
    let long = format!("legacy_table = \"{}\"", "t".repeat(64));
    assert!(error_after(r#"legacy_table = "legacy_posts""#, &long).contains("longer than 63"));
}

#[test]
fn key_and_updated_at_must_be_mapped() {
    let err = error_after(r#"{ legacy = "id", revamp = "id" },"#, "");
    assert!(
        err.starts_with("entities.user.key: key `id` must be mapped"),
        "{err}"
    );
    let err = error_after(
        r#"{ legacy = "updated_at", revamp = "updated_at", convert = "timestamp" },"#,
        r#"{ legacy = "updated_at", revamp = "updated_at" },"#,
    );
    assert_eq!(
        err,
        "entities.user.updated_at: the updated_at column must use convert = timestamp"
    );
    let err = error_after(
        r#"updated_at = { legacy = "updated_at", revamp = "updated_at" }"#,
        r#"updated_at = { legacy = "updated_at", revamp = "modified" }"#,
    );
    assert!(err.starts_with("entities.user.updated_at: "), "{err}");
}

#[test]
fn references_and_parents_name_existing_entities() {
    let err = error_after(r#"references = "user""#, r#"references = "member""#);
    assert_eq!(
        err,
        "entities.post.columns[1].references: no entity named `member`"
    );
    let err = error_after(r#"parents = ["user"]"#, r#"parents = ["user", "tag"]"#);
    assert_eq!(err, "entities.post.parents[1]: no entity named `tag`");
    let err = error_after(r#"parents = ["user"]"#, "");
    assert_eq!(
        err,
        "entities.post.columns[1].references: `user` must also be listed in the entity's `parents`"
    );
}

#[test]
fn parent_cycles_are_rejected() {
    let err = error_after(r#"key = "id""#, "key = \"id\"\nparents = [\"post\"]");
    assert!(err.contains("form a cycle"), "{err}");
    assert!(error_after(r#"parents = ["user"]"#, r#"parents = ["post"]"#).contains("own parent"));
}

#[test]
fn split_name_needs_two_revamp_columns() {
    let err = error_after(
        r#"{ legacy = "id", revamp = "id" },"#,
        r#"{ legacy = "id", revamp = "id" }, { legacy = "full_name", revamp = "first_name", convert = "split_name" },"#,
    );
    let expected = "convert = split_name needs exactly two revamp columns [first, last], got 1";
    assert_eq!(err, format!("entities.user.columns[1]: {expected}"));
    let err = error_after(
        r#"{ legacy = "id", revamp = "id" },"#,
        r#"{ legacy = "id", revamp = "id" }, { legacy = "email", revamp = ["a", "b"] },"#,
    );
    assert_eq!(
        err,
        "entities.user.columns[1]: convert = none needs one revamp column, got 2"
    );
}

#[test]
fn other_rules_name_their_entry() {
    let err = error_after(r#"key = "id""#, "key = \"id\"\nconflict = \"newest\"");
    assert!(
        err.starts_with("entities.user.conflict: `newest` is not one of"),
        "{err}"
    );
    let err = error_after(r#"convert = "value_map""#, r#"convert = "lookup""#);
    assert!(
        err.starts_with("entities.user.columns[1].convert: `lookup`"),
        "{err}"
    );
    let err = error_after(r#"legacy = "author_id""#, r#"legacy = "source""#);
    assert!(
        err.starts_with("entities.post.columns[1]: the `source` column"),
        "{err}"
    );
    let err = error_after(r#"revamp = "user_id""#, r#"revamp = "id""#);
    assert_eq!(err, "entities.post.columns[1]: column `id` is mapped twice");
    let err = error_after(r#""revamp_posts""#, r#""revamp_users""#);
    assert!(
        err.contains("table `revamp_users` is already used by entity"),
        "{err}"
    );
    let err = error_after(r#"key = "id""#, "key = \"id\"\nowner = \"me\"");
    assert!(err.starts_with("mapping is not valid: "), "{err}");
    assert!(err.contains("owner"), "{err}");
}

#[test]
fn conflict_policies_parse() {
    for policy in [
        ConflictPolicy::LastWriterWins,
        ConflictPolicy::LegacyWins,
        ConflictPolicy::RevampWins,
    ] {
        let text = SMALL.replacen(
            "key = \"id\"",
            &format!("key = \"id\"\nconflict = \"{}\"", policy.as_str()),
            1,
        );
        let mapping = Mapping::from_toml_str(&text).unwrap();
        let conflicts: Vec<_> = mapping.entities().iter().map(Entity::conflict).collect();
        assert!(conflicts.contains(&policy));
    }
}
