<?php

/**
 * InvalidConfig: messages name the config key and the environment variable to set.
 */

declare(strict_types=1);

namespace DbSync\Laravel\Tests\Exceptions;

use DbSync\Laravel\Exceptions\InvalidConfig;
use PHPUnit\Framework\TestCase;

final class InvalidConfigTest extends TestCase
{
    public function testMissingNamesTheKeyAndTheVariable(): void
    {
        $message = InvalidConfig::missing('databases.legacy_dsn')->getMessage();

        self::assertStringContainsString('`databases.legacy_dsn`', $message);
        self::assertStringContainsString('set DBSYNC_LEGACY_DSN', $message);
        self::assertStringContainsString('config/dbsync.php', $message);
    }

    public function testNotAnIntegerShowsTheValue(): void
    {
        $message = InvalidConfig::notAnInteger('consumer.max_retries', 'many')->getMessage();

        self::assertStringContainsString("got 'many'", $message);
        self::assertStringContainsString('DBSYNC_MAX_RETRIES', $message);
    }

    public function testItIsAnInvalidArgumentException(): void
    {
        self::assertInstanceOf(\InvalidArgumentException::class, InvalidConfig::missing('mapping_path'));
    }
}
