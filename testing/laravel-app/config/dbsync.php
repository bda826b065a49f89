<?php

/**
 * The app's dbsync settings: the bridge's config/dbsync.php (merged in by its service provider) with one
 * app-specific default, the repository's mapping file, found relative to this app.
 */

return [
    'mapping_path' => env('DBSYNC_MAPPING_PATH', dirname(__DIR__, 3) . '/core/mapping/default.toml'),
];
