<?php

/**
 * ExitCode: configuration and option errors exit 2 (a supervisor should stop restarting), anything else 1.
 */

declare(strict_types=1);

namespace DbSync\Laravel\Tests;

use DbSync\Laravel\Exceptions\InvalidConfig;
use DbSync\Laravel\ExitCode;
use PHPUnit\Framework\TestCase;

final class ExitCodeTest extends TestCase
{
    public function testTheCodes(): void
    {
        self::assertSame([0, 1, 2], [ExitCode::OK, ExitCode::FAILURE, ExitCode::INVALID_CONFIG]);
    }

    public function testConfigurationAndOptionErrorsAreInvalid(): void
    {
        self::assertSame(2, ExitCode::for(InvalidConfig::missing('mapping_path')));
        self::assertSame(2, ExitCode::for(new \InvalidArgumentException('--max-time must be ...')));
        self::assertSame(2, ExitCode::for(new \ValueError('$timeoutSeconds must be ...')));
    }

    public function testOtherFailuresAreRuntimeFailures(): void
    {
        self::assertSame(1, ExitCode::for(new \RuntimeException('broker unreachable')));
    }

    /** @requires extension dbsync */
    public function testTheExtensionsExceptionsAreToldApart(): void
    {
        // PHP cannot instantiate them: take real ones. An option of the wrong type is a ConfigException; a panic
        // (debug builds' DbSync\Testing\panic, the ones the tests load) a SyncException.
        try {
            new \DbSync\Supervisor(['connect_url' => 5]);
            self::fail('no ConfigException');
        } catch (\DbSync\Exception\ConfigException $e) {
            self::assertSame(2, ExitCode::for($e));
        }
        try {
            \DbSync\Testing\panic('a runtime failure');
            self::fail('no SyncException');
        } catch (\DbSync\Exception\SyncException $e) {
            self::assertSame(1, ExitCode::for($e));
        }
    }
}
