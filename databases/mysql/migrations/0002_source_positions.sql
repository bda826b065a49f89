-- The highest source position (binlog coordinate) the sync service applied per topic partition
-- (core/src/position.rs), raised in the applying transaction: an event above it cannot be a redelivery, so the
-- writer skips its ledger lookup. Kafka topic names are at most 249 characters.
CREATE TABLE IF NOT EXISTS dbsync_source_positions (
    topic           VARCHAR(249) NOT NULL,
    kafka_partition INT          NOT NULL,
    source_position VARCHAR(512) NOT NULL,
    updated_at      DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    PRIMARY KEY (topic, kafka_partition)
) ENGINE=InnoDB;
