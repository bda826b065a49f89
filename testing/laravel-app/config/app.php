<?php

/**
 * Application settings of the thin dbsync app: console only, no HTTP, no encryption. The dbsync bridge is
 * registered by package auto-discovery.
 */

return [
    'name' => env('APP_NAME', 'dbsync'),
    'env' => env('APP_ENV', 'local'),
    'debug' => (bool) env('APP_DEBUG', false),
    'url' => env('APP_URL', 'http://localhost'),
    'timezone' => 'UTC',
    'locale' => 'en',
    'fallback_locale' => 'en',
    'key' => env('APP_KEY'),
    'cipher' => 'AES-256-CBC',

    'providers' => [
        Illuminate\Filesystem\FilesystemServiceProvider::class,
        Illuminate\Database\DatabaseServiceProvider::class,
    ],

    'aliases' => [
        'Artisan' => Illuminate\Support\Facades\Artisan::class,
        'Config' => Illuminate\Support\Facades\Config::class,
        'DB' => Illuminate\Support\Facades\DB::class,
    ],
];
