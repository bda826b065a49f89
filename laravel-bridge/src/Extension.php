<?php

/**
 * The dbsync PHP extension the commands hand their work to: whether it is loaded, what to do when it is not, and
 * where its logs go.
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

    /**
     * Sends the extension's log lines to the daily file in the configured log_directory too (besides stderr). Call
     * it before the first Consumer or Supervisor: the first set-up of a process is kept.
     *
     * @throws \DbSync\Exception\ConfigException when the directory cannot be created or written
     */
    public static function logTo(Config $config): void
    {
        if ($config->logDirectory !== null) {
            \DbSync\logToDirectory($config->logDirectory);
        }
    }
}
