<?php

/**
 * The two databases the sync connects, for tests and demos that look at rows (the consumers themselves use the
 * DBSYNC_*_DSN settings in config/dbsync.php). Values come from stack.env; admin access is passwordless locally.
 */

return [
    'default' => 'legacy',

    'connections' => [
        'legacy' => [
            'driver' => 'pgsql',
            'host' => env('DBSYNC_PG_HOST', '127.0.0.1'),
            'port' => env('DBSYNC_PG_PORT', '5432'),
            'database' => env('DBSYNC_PG_DATABASE', 'legacy_db'),
            'username' => 'postgres',
            'password' => '',
            'charset' => 'utf8',
            'prefix' => '',
            'schema' => 'public',
            'sslmode' => 'disable',
        ],

        'revamp' => [
            'driver' => 'mysql',
            'host' => env('DBSYNC_MYSQL_HOST', '127.0.0.1'),
            'port' => env('DBSYNC_MYSQL_PORT', '3306'),
            'database' => env('DBSYNC_MYSQL_DATABASE', 'revamp_db'),
            'username' => 'root',
            'password' => '',
            'charset' => 'utf8mb4',
            'collation' => 'utf8mb4_unicode_ci',
            'prefix' => '',
            'strict' => true,
        ],
    ],

    'migrations' => 'migrations',
];
