<?php

/**
 * dbsync: settings of the consume:legacy-events, consume:revamp-events, dbsync:replay-dlq and dbsync:supervise
 * commands.
 *
 * Every value comes from a DBSYNC_* environment variable (the repository's stack.env documents them with their
 * development values). Publish with `php artisan vendor:publish --tag=dbsync-config`. The extension validates the
 * values; this file only names where they come from.
 */

return [
    'kafka' => [
        // Bootstrap servers, comma-separated.
        'brokers' => env('DBSYNC_BROKERS', '127.0.0.1:9092'),
        // Consumer groups are "<prefix>-legacy-to-revamp", "<prefix>-revamp-to-legacy" and "<prefix>-dlq-replay".
        'group_prefix' => env('DBSYNC_GROUP_PREFIX', 'dbsync'),
        'topics' => [
            'legacy' => env('DBSYNC_LEGACY_TOPIC', 'legacy.events'),
            'revamp' => env('DBSYNC_REVAMP_TOPIC', 'revamp.events'),
            'dlq' => env('DBSYNC_DLQ_TOPIC', 'sync.dlq'),
        ],
    ],

    // Where each consumer writes: legacy-events go into the revamp database and the other way round.
    'databases' => [
        'legacy_dsn' => env('DBSYNC_LEGACY_DSN'),
        'revamp_dsn' => env('DBSYNC_REVAMP_DSN'),
    ],

    // dbsync:supervise: Kafka Connect's REST API, where the Debezium connectors run.
    'connect' => [
        'url' => env('DBSYNC_CONNECT_URL', 'http://127.0.0.1:8083'),
    ],

    // The mapping file (TOML) between the two schemas; a relative path is resolved against the app's base path.
    'mapping_path' => env('DBSYNC_MAPPING_PATH'),

    'consumer' => [
        'batch_size' => env('DBSYNC_BATCH_SIZE', 500),
        'batch_linger_ms' => env('DBSYNC_BATCH_LINGER_MS', 50),
        'max_retries' => env('DBSYNC_MAX_RETRIES', 5),
        'retry_backoff_ms' => env('DBSYNC_RETRY_BACKOFF_MS', 200),
        // How long a child row waits for its parent before it is dead-lettered as parent_missing.
        'parent_wait_ms' => env('DBSYNC_PARENT_WAIT_MS', 30000),
        // Age at which ledger rows and tombstones are pruned; keep it above the topics' retention.
        'ledger_retention_hours' => env('DBSYNC_LEDGER_RETENTION_HOURS', 336),
        // For legacy_wins / revamp_wins entities: how much newer the other side's edit must be to win anyway.
        'conflict_window_ms' => env('DBSYNC_CONFLICT_WINDOW_MS', 1000),
        // Static group membership id (Kafka group.instance.id): one per consumer process, kept across restarts so a
        // restarted process takes its partitions back at once. Unset: <hostname>-<direction>-0.
        'instance_id' => env('DBSYNC_INSTANCE_ID'),
    ],
];
