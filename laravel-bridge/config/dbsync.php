<?php

/**
 * dbsync: settings of the consume:legacy-events, consume:revamp-events, dbsync:replay-dlq and dbsync:supervise
 * commands.
 *
 * Every value comes from a DBSYNC_* environment variable (the repository's stack.env documents them with their
 * development values). Publish with `php artisan vendor:publish --tag=dbsync-config`. A value left unset (null or
 * '') is not passed on: the extension's own default applies (README, "Configuration"), so this file holds no copies
 * of defaults. The extension validates the values; this file only names where they come from.
 */

return [
    'kafka' => [
        // Bootstrap servers, comma-separated. Unset: 127.0.0.1:9092.
        'brokers' => env('DBSYNC_BROKERS'),
        // Consumer groups are "<prefix>-legacy-to-revamp", "<prefix>-revamp-to-legacy" and "<prefix>-dlq-replay".
        // Unset: dbsync.
        'group_prefix' => env('DBSYNC_GROUP_PREFIX'),
        // Unset: legacy.events, revamp.events and sync.dlq.
        'topics' => [
            'legacy' => env('DBSYNC_LEGACY_TOPIC'),
            'revamp' => env('DBSYNC_REVAMP_TOPIC'),
            'dlq' => env('DBSYNC_DLQ_TOPIC'),
        ],
        // Pass-through librdkafka properties for every Kafka client (TLS, SASL; README "Kafka over TLS and SASL"):
        // "name=value,name=value" from the environment, or an array here (needed when a value holds a comma), e.g.
        // ['security.protocol' => 'SASL_SSL', 'sasl.mechanism' => 'SCRAM-SHA-512', 'sasl.username' => ...,
        //  'sasl.password' => env('DBSYNC_KAFKA_PASSWORD'), 'ssl.ca.location' => '/etc/ssl/kafka-ca.pem'].
        // Settings dbsync makes itself (group.id, enable.auto.commit, client.id, ...) are refused. Unset: none.
        'options' => env('DBSYNC_KAFKA_PROPERTIES'),
    ],

    // Where each consumer writes: legacy-events go into the revamp database and the other way round. Required.
    'databases' => [
        'legacy_dsn' => env('DBSYNC_LEGACY_DSN'),
        'revamp_dsn' => env('DBSYNC_REVAMP_DSN'),
    ],

    // dbsync:supervise: Kafka Connect's REST API, where the Debezium connectors run.
    'connect' => [
        'url' => env('DBSYNC_CONNECT_URL'),
    ],

    // The mapping file (TOML) between the two schemas; a relative path is resolved against the app's base path.
    // Required.
    'mapping_path' => env('DBSYNC_MAPPING_PATH'),

    'consumer' => [
        // Events per database transaction.
        'batch_size' => env('DBSYNC_BATCH_SIZE'),
        // How long a partial batch waits for more events.
        'batch_linger_ms' => env('DBSYNC_BATCH_LINGER_MS'),
        // Attempts for transient database errors before dead-lettering, and the first backoff.
        'max_retries' => env('DBSYNC_MAX_RETRIES'),
        'retry_backoff_ms' => env('DBSYNC_RETRY_BACKOFF_MS'),
        // How long a child row waits for its parent before it is dead-lettered as parent_missing.
        'parent_wait_ms' => env('DBSYNC_PARENT_WAIT_MS'),
        // Age at which ledger rows and tombstones are pruned; keep it above the topics' retention.
        'ledger_retention_hours' => env('DBSYNC_LEDGER_RETENTION_HOURS'),
        // For legacy_wins / revamp_wins entities: how much newer the other side's edit must be to win anyway.
        'conflict_window_ms' => env('DBSYNC_CONFLICT_WINDOW_MS'),
        // Static group membership id (Kafka group.instance.id): one per consumer process, kept across restarts so a
        // restarted process takes its partitions back at once. Unset: <hostname>-<direction>-0.
        'instance_id' => env('DBSYNC_INSTANCE_ID'),
        // Prometheus metrics at http://<host:port>/metrics, e.g. 127.0.0.1:9464 (one port per consumer process).
        // Unset: no endpoint.
        'metrics_addr' => env('DBSYNC_METRICS_ADDR'),
    ],

    // A directory where the commands also write their log lines, to a daily file dbsync.YYYY-MM-DD.log (14 days
    // kept), besides stderr; e.g. storage_path('logs') to have them next to Laravel's own. A relative path is
    // resolved against the app's base path. Unset: stderr only (let the process supervisor capture it).
    'log_directory' => env('DBSYNC_LOG_DIR'),
];
