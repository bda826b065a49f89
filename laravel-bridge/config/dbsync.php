<?php

/**
 * dbsync: settings of the consume:legacy-events and consume:revamp-events commands.
 *
 * Every value comes from a DBSYNC_* environment variable (the repository's stack.env documents them with their
 * development values). Publish with `php artisan vendor:publish --tag=dbsync-config`. The extension validates the
 * values; this file only names where they come from.
 */

return [
    'kafka' => [
        // Bootstrap servers, comma-separated.
        'brokers' => env('DBSYNC_BROKERS', '127.0.0.1:9092'),
        // Consumer groups are "<prefix>-legacy-to-revamp" and "<prefix>-revamp-to-legacy".
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

    // The mapping file (TOML) between the two schemas; a relative path is resolved against the app's base path.
    'mapping_path' => env('DBSYNC_MAPPING_PATH'),

    'consumer' => [
        'batch_size' => env('DBSYNC_BATCH_SIZE', 500),
        'batch_linger_ms' => env('DBSYNC_BATCH_LINGER_MS', 50),
        'max_retries' => env('DBSYNC_MAX_RETRIES', 5),
        'retry_backoff_ms' => env('DBSYNC_RETRY_BACKOFF_MS', 200),
    ],
];
