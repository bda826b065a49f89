<?php

/**
 * The commands' exit codes: 0 ok, 1 a runtime failure (a restart may help: a database or broker unreachable),
 * 2 invalid configuration or options (it will fail the same way again, so a process supervisor should stop
 * restarting it).
 */

declare(strict_types=1);

namespace DbSync\Laravel;

use DbSync\Exception\ConfigException;
use InvalidArgumentException;
use Throwable;
use ValueError;

final class ExitCode
{
    public const OK = 0;
    public const FAILURE = 1;
    public const INVALID_CONFIG = 2;

    /** The code a command exits with after $e: INVALID_CONFIG for configuration and option errors, else FAILURE. */
    public static function for(Throwable $e): int
    {
        // InvalidConfig (the bridge) and bad options are InvalidArgumentExceptions; ConfigException is the
        // extension's (a field the core refused, or an unusable mapping file); instanceof needs no loaded class.
        $invalid = $e instanceof InvalidArgumentException || $e instanceof ValueError || $e instanceof ConfigException;

        return $invalid ? self::INVALID_CONFIG : self::FAILURE;
    }
}
