<?php

/**
 * Loads Laravel from Debian's php-laravel-framework package (Illuminate, Symfony, Carbon through the include
 * path) instead of Packagist; Composer autoloads this file, and the root `provide` tells Composer these
 * illuminate/* packages are there.
 */

declare(strict_types=1);

if (!class_exists(Illuminate\Foundation\Application::class, false)) {
    if (stream_resolve_include_path('Illuminate/autoload.php') === false) {
        fwrite(STDERR, "Laravel is missing: install Debian's php-laravel-framework (apt-get install php-laravel-framework).\n");
        exit(1);
    }
    require_once 'Illuminate/autoload.php';
}
