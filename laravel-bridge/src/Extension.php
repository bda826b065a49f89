<?php

/**
 * The dbsync PHP extension the commands hand their work to: whether it is loaded, and what to do when it is not.
 */

declare(strict_types=1);

namespace DbSync\Laravel;

final class Extension
{
    /** What the commands print (and exit non-zero) when the extension is missing. */
    public const MISSING = 'The dbsync PHP extension is not loaded. Build and install it with `make ext` '
        . '(php-ext/install.sh), or run PHP with -d extension=/path/to/libdbsync.so.';

    public static function isLoaded(): bool
    {
        return extension_loaded('dbsync');
    }
}
