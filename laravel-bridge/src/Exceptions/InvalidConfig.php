<?php

/**
 * A dbsync setting in config/dbsync.php (or its DBSYNC_* environment variable) is missing or unusable. Each named
 * constructor says what to set; the extension validates the values themselves (ConfigException).
 */

declare(strict_types=1);

namespace DbSync\Laravel\Exceptions;

use DbSync\Laravel\Config;
use InvalidArgumentException;

final class InvalidConfig extends InvalidArgumentException
{
    public static function missing(string $key): self
    {
        $envVar = self::envVar($key);

        return new self("dbsync config `{$key}` is not set: set {$envVar} in the environment or .env "
            . "(or `{$key}` in config/dbsync.php).");
    }

    public static function notAnInteger(string $key, mixed $value): self
    {
        $envVar = self::envVar($key);
        $shown = is_scalar($value) ? var_export($value, true) : get_debug_type($value);

        return new self("dbsync config `{$key}` must be a whole number, got {$shown}: fix {$envVar} "
            . "(or `{$key}` in config/dbsync.php).");
    }

    private static function envVar(string $key): string
    {
        return Config::ENV[$key] ?? 'the matching DBSYNC_* variable';
    }
}
