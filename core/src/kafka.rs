//! The one place Kafka clients are configured. The consumer, its dead-letter producer and the replay's consumer and
//! producer all start from [`client_config`]: the documented settings (`brokers`), a `client.id` that names the
//! process in the broker's logs and quotas, and the operator's pass-through librdkafka properties
//! ([`KafkaProperties`], e.g. `security.protocol=SASL_SSL`, `sasl.mechanism=SCRAM-SHA-512`, `ssl.ca.location=...`).
//! Each caller then sets the properties its guarantees rest on (group, offsets, idempotence); those are
//! [`RESERVED_PROPERTIES`], and a pass-through map that names one is refused with a config error naming the key.
//!
//! librdkafka is built with OpenSSL (`ssl`): TLS, SASL/PLAIN, SASL/SCRAM and OAUTHBEARER work without further
//! dependencies; GSSAPI (Kerberos) would need the `sasl` feature and libsasl2.

use crate::config::invalid;
use crate::error::{ConfigError, Error};
use rdkafka::error::KafkaError;
use rdkafka::ClientConfig;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;

/// Properties the core sets itself, because the at-least-once guarantee, the rebalance handling or the replay depend
/// on their values, or because a documented setting owns them (`brokers`, `group_id`, `instance_id`).
pub const RESERVED_PROPERTIES: &[&str] = &[
    "bootstrap.servers",
    "metadata.broker.list",
    "client.id",
    "group.id",
    "group.instance.id",
    "enable.auto.commit",
    "enable.auto.offset.store",
    "auto.offset.reset",
    "enable.partition.eof",
    "partition.assignment.strategy",
    "group.protocol",
    "enable.idempotence",
    "transactional.id",
];

/// The config field that holds the pass-through map, as errors name it.
pub const FIELD: &str = "kafka_properties";

/// Pass-through librdkafka properties (names as librdkafka documents them in CONFIGURATION.md). Values whose name
/// looks secret (`sasl.password`, `ssl.key.password`, ...) never appear in `Debug` output.
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct KafkaProperties(BTreeMap<String, String>);

impl KafkaProperties {
    /// The properties, by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Whether `name` was passed through.
    pub fn contains(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }

    /// Refuses empty or malformed names, empty values and [`RESERVED_PROPERTIES`]; the error names the key as
    /// `kafka_properties.<name>`.
    pub fn validate(&self) -> Result<(), ConfigError> {
        for (name, value) in self.iter() {
            let field = format!("{FIELD}.{name}");
            let well_formed = !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '_');
            if !well_formed {
                return Err(invalid(
                    &field,
                    "is not a librdkafka property name (lowercase letters, digits, `.` and `_`)",
                ));
            }
            if RESERVED_PROPERTIES.contains(&name) {
                return Err(invalid(
                    &field,
                    "is set by dbsync itself and cannot be passed through (brokers, group and instance id \
                     have their own settings)",
                ));
            }
            if value.trim().is_empty() {
                return Err(invalid(&field, "must not be empty"));
            }
        }
        Ok(())
    }
}

impl FromIterator<(String, String)> for KafkaProperties {
    fn from_iter<I: IntoIterator<Item = (String, String)>>(iter: I) -> Self {
        KafkaProperties(iter.into_iter().collect())
    }
}

/// Whether a property's value is a secret (masked in `Debug`, never logged).
fn is_secret(name: &str) -> bool {
    ["password", "secret", "key.pem", "token", "sasl.jaas"]
        .iter()
        .any(|s| name.contains(s))
}

impl fmt::Debug for KafkaProperties {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(
                self.iter()
                    .map(|(k, v)| (k, if is_secret(k) { "********" } else { v })),
            )
            .finish()
    }
}

/// `client.id` of a dbsync client: `dbsync-<role>-<instance>`, e.g. `dbsync-consumer-web1-legacy-to-revamp-0` (the
/// instance id already names the direction) or `dbsync-replay-web1`.
pub fn client_id(role: &str, instance: &str) -> String {
    format!("dbsync-{role}-{instance}")
}

/// A client config with the brokers, `client.id` and the pass-through properties; the caller adds its own
/// [`RESERVED_PROPERTIES`] on top.
pub fn client_config(brokers: &str, properties: &KafkaProperties, client_id: &str) -> ClientConfig {
    let mut config = ClientConfig::new();
    for (name, value) in properties.iter() {
        config.set(name, value);
    }
    config
        .set("bootstrap.servers", brokers)
        .set("client.id", client_id);
    config
}

/// The applying consumer's prefetch, unless `kafka_properties` sets these names. librdkafka's default buffers up to
/// 64 MB of messages per consumer, which made a consumer's peak RSS 166 MiB while draining a backlog; 2 MB holds
/// several 500-event batches. 1 MB took 1–4 MiB off the peak RSS and drained backlogs as fast; 2 MB stays, the value
/// measured longer (the lag 1 MB first seemed to cost under steady load came with 2 MB as well: README, "Kafka over
/// TLS and SASL"). With the default 1 s back-off a full buffer starves the consumer between fetches, so the back-off
/// is 10 ms. Fetching at most 256 KB per partition at a time keeps the partitions' prefetch even: with 1 MB per
/// partition, one partition filled the small buffer while children waited for parents in another (69k parked
/// retries in a mixed 141k-event drain, none with 256 KB). `make bench` measures the result.
pub const CONSUMER_PREFETCH: [(&str, &str); 3] = [
    ("queued.max.messages.kbytes", "2048"),
    ("fetch.queue.backoff.ms", "10"),
    ("max.partition.fetch.bytes", "262144"),
];

/// Sets each of `defaults` on `config` unless `properties` passes that name through.
pub fn with_defaults<'c>(
    config: &'c mut ClientConfig,
    properties: &KafkaProperties,
    defaults: &[(&str, &str)],
) -> &'c mut ClientConfig {
    for (name, value) in defaults {
        if !properties.contains(name) {
            config.set(*name, *value);
        }
    }
    config
}

/// Maps a client-creation error: librdkafka's refusal of a pass-through property (unknown name, bad value, a file
/// such as `ssl.ca.location` it cannot read) becomes a config error naming `kafka_properties.<name>`; anything
/// else stays a Kafka error with `context`.
pub fn creation_error(
    properties: &KafkaProperties,
    context: impl Into<String>,
) -> impl FnOnce(KafkaError) -> Error + '_ {
    let context = context.into();
    move |source| {
        if let Some(name) = blamed_property(properties, &source) {
            return Error::Config(invalid(
                &format!("{FIELD}.{name}"),
                &format!("librdkafka refused it: {source}"),
            ));
        }
        Error::Kafka { context, source }
    }
}

/// Maps a failed first call to the brokers (the consumer's start-up metadata request). librdkafka reports a TLS or
/// SASL failure only through its error callback and the call itself just times out, so `last_error` is the last
/// error the client context saw: a certificate that does not verify becomes a config error naming
/// `kafka_properties.ssl.ca.location`, a refused login one naming `kafka_properties.sasl.password`; anything else
/// stays a Kafka error with `context`.
pub fn connection_error(last_error: Option<&str>, context: &str, source: KafkaError) -> Error {
    if let Some((name, hint)) = last_error.and_then(blamed_connection_setting) {
        return Error::Config(invalid(
            &format!("{FIELD}.{name}"),
            &format!("{hint} (librdkafka: {})", last_error.unwrap_or_default()),
        ));
    }
    Error::Kafka {
        context: context.to_string(),
        source,
    }
}

/// Whether a line librdkafka reported points at a setting ([`connection_error`] would name it).
pub(crate) fn blames_a_setting(reported: &str) -> bool {
    blamed_connection_setting(reported).is_some()
}

/// The setting behind a connection failure librdkafka reported, and what to check.
fn blamed_connection_setting(reported: &str) -> Option<(&'static str, &'static str)> {
    let text = reported.to_ascii_lowercase();
    if text.contains("certificate verify failed") || text.contains("ssl handshake failed") {
        return Some((
            "ssl.ca.location",
            "the broker's TLS certificate did not verify: check that this CA (the system's CA store when unset) \
             signed it and that it names the host in `brokers`",
        ));
    }
    if text.contains("sasl authentication") || text.contains("authentication failed") {
        return Some((
            "sasl.password",
            "the broker refused the SASL login: check sasl.mechanism, sasl.username and sasl.password",
        ));
    }
    None
}

/// The pass-through property a creation error is about, if any.
fn blamed_property<'a>(properties: &'a KafkaProperties, error: &KafkaError) -> Option<&'a str> {
    match error {
        KafkaError::ClientConfig(_, _, key, _) => properties
            .iter()
            .map(|(name, _)| name)
            .find(|name| name == key),
        // e.g. "ssl.ca.location failed: ..." or "Failed to create ... : ssl.ca.location ...".
        KafkaError::ClientCreation(message) => properties
            .iter()
            .map(|(name, _)| name)
            .filter(|name| message.contains(name))
            .max_by_key(|name| name.len()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rdkafka::consumer::BaseConsumer;

    fn props(pairs: &[(&str, &str)]) -> KafkaProperties {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn field_of(error: ConfigError) -> String {
        match error {
            ConfigError::Invalid { field, .. } => field,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn prefetch_defaults_yield_to_passed_through_values_and_librdkafka_takes_them() {
        let passed = props(&[("queued.max.messages.kbytes", "65536")]);
        let mut config = client_config("b:9092", &passed, "dbsync-consumer-test");
        with_defaults(&mut config, &passed, &CONSUMER_PREFETCH);
        assert_eq!(config.get("queued.max.messages.kbytes"), Some("65536"));
        assert_eq!(config.get("fetch.queue.backoff.ms"), Some("10"));
        // librdkafka knows both names and accepts the values for a consumer.
        let native = config.set("group.id", "g").create_native_config().unwrap();
        assert_eq!(native.get("fetch.queue.backoff.ms").unwrap(), "10");
        let _: BaseConsumer = config.create().unwrap();
    }

    #[test]
    fn librdkafka_is_built_with_tls_and_sasl_plain_and_scram() {
        let native = ClientConfig::new().create_native_config().unwrap();
        let features = native.get("builtin.features").unwrap();
        for feature in ["ssl", "sasl_plain", "sasl_scram", "sasl_oauthbearer"] {
            assert!(
                features.split(',').any(|f| f == feature),
                "{feature} missing from {features}"
            );
        }
    }

    #[test]
    fn reserved_properties_are_refused_naming_the_key() {
        for name in RESERVED_PROPERTIES {
            let error = props(&[(name, "x")]).validate().unwrap_err();
            assert_eq!(field_of(error), format!("kafka_properties.{name}"));
        }
    }

    #[test]
    fn consumer_and_replay_settings_refuse_a_reserved_property_naming_it() {
        let mut consumer = serde_json::json!({
            "brokers": "127.0.0.1:9092", "group_id": "g", "topic": "legacy.events",
            "direction": "legacy_to_revamp", "target_dsn": "mysql://u:p@127.0.0.1/revamp_db",
            "mapping_path": concat!(env!("CARGO_MANIFEST_DIR"), "/mapping/default.toml"),
            "kafka_properties": {"security.protocol": "SASL_SSL", "enable.auto.commit": "true"},
        });
        let error = crate::SyncConfig::from_json(consumer.clone()).unwrap_err();
        assert_eq!(field_of(error), "kafka_properties.enable.auto.commit");
        consumer["kafka_properties"] = serde_json::json!({"security.protocol": "SASL_SSL"});
        let config = crate::SyncConfig::from_json(consumer).unwrap();
        assert!(config.kafka_properties.contains("security.protocol"));
        let replay = serde_json::json!({"brokers": "b", "kafka_properties": {"group.id": "x"}});
        let error = crate::ReplayOptions::from_json(replay).unwrap_err();
        assert_eq!(field_of(error), "kafka_properties.group.id");
    }

    #[test]
    fn malformed_names_and_empty_values_are_refused() {
        assert_eq!(
            field_of(
                props(&[("Security.Protocol", "SSL")])
                    .validate()
                    .unwrap_err()
            ),
            "kafka_properties.Security.Protocol"
        );
        assert_eq!(
            field_of(props(&[("sasl.username", " ")]).validate().unwrap_err()),
            "kafka_properties.sasl.username"
        );
        props(&[
            ("security.protocol", "SASL_SSL"),
            ("sasl.mechanism", "SCRAM-SHA-512"),
        ])
        .validate()
        .unwrap();
    }

    #[test]
    fn debug_masks_secrets() {
        let shown = format!(
            "{:?}",
            props(&[("sasl.password", "hunter2"), ("sasl.username", "sync")])
        );
        assert!(
            !shown.contains("hunter2") && shown.contains("sync"),
            "{shown}"
        );
    }

    #[test]
    fn the_config_carries_brokers_client_id_and_pass_through() {
        let config = client_config(
            "b:9092",
            &props(&[("socket.keepalive.enable", "true")]),
            &client_id("dlq", "h-0"),
        );
        assert_eq!(config.get("bootstrap.servers"), Some("b:9092"));
        assert_eq!(config.get("client.id"), Some("dbsync-dlq-h-0"));
        assert_eq!(config.get("socket.keepalive.enable"), Some("true"));
    }

    /// The error text of creating a consumer with `pairs` passed through.
    fn creation_error_text(pairs: &[(&str, &str)]) -> String {
        let properties = props(pairs);
        let result = client_config("127.0.0.1:1", &properties, "t")
            .create::<BaseConsumer>()
            .map_err(creation_error(&properties, "creating"));
        match result {
            Ok(_) => panic!("librdkafka accepted {pairs:?}"),
            Err(error) => error.to_string(),
        }
    }

    #[test]
    fn a_property_librdkafka_refuses_becomes_a_config_error_naming_it() {
        let text = creation_error_text(&[("no.such.property", "1")]);
        assert!(
            text.starts_with("config field `kafka_properties.no.such.property` is invalid"),
            "{text}"
        );
    }

    #[test]
    fn an_unreadable_ca_file_names_its_property() {
        let text = creation_error_text(&[
            ("security.protocol", "SSL"),
            ("ssl.ca.location", "/nonexistent/ca.pem"),
        ]);
        assert!(text.contains("kafka_properties.ssl.ca.location"), "{text}");
    }

    #[test]
    fn a_certificate_that_does_not_verify_names_the_ca_setting() {
        let reported = "Local: SSL error: ssl://127.0.0.1:9094/bootstrap: SSL handshake failed: \
                        error:0A000086:SSL routines::certificate verify failed: broker certificate could not be \
                        verified, verify that ssl.ca.location is correctly configured";
        let text = connection_error(
            Some(reported),
            "reading topic metadata",
            KafkaError::MetadataFetch(rdkafka::types::RDKafkaErrorCode::OperationTimedOut),
        )
        .to_string();
        assert!(
            text.starts_with("config field `kafka_properties.ssl.ca.location` is invalid"),
            "{text}"
        );
        let text = connection_error(
            Some("Local: Authentication failure: SASL authentication error: Authentication failed"),
            "reading topic metadata",
            KafkaError::MetadataFetch(rdkafka::types::RDKafkaErrorCode::OperationTimedOut),
        )
        .to_string();
        assert!(text.contains("kafka_properties.sasl.password"), "{text}");
        let error = connection_error(
            Some("Local: Broker transport failure: Connection refused"),
            "reading topic metadata",
            KafkaError::MetadataFetch(rdkafka::types::RDKafkaErrorCode::OperationTimedOut),
        );
        assert!(matches!(error, Error::Kafka { .. }), "{error}");
        assert!(matches!(
            connection_error(
                None,
                "x",
                KafkaError::MetadataFetch(rdkafka::types::RDKafkaErrorCode::OperationTimedOut)
            ),
            Error::Kafka { .. }
        ));
    }
}
