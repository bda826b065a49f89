<?php

/**
 * dbsync:verify's and dbsync:repair's filters as the core's fields, and the settings they take from config.
 */

declare(strict_types=1);

namespace DbSync\Laravel\Tests;

use DbSync\Laravel\Config;
use DbSync\Laravel\Exceptions\InvalidConfig;
use DbSync\Laravel\VerifyOptions;
use InvalidArgumentException;
use PHPUnit\Framework\TestCase;

final class VerifyOptionsTest extends TestCase
{
    public function testFiltersBecomeTheCoresFields(): void
    {
        self::assertSame(
            ['entities' => ['user', 'post'], 'chunk_size' => 500, 'min_key' => 10, 'max_key' => 20,
                'since' => '2026-05-01T10:00:00.000000Z'],
            VerifyOptions::fromInput(['user,post', 'user'], '500', '2026-05-01T12:00:00+02:00', '10', 20),
        );
        self::assertSame(['entities' => []], VerifyOptions::fromInput([], null, null, null, null));
    }

    public function testBadFiltersNameTheOption(): void
    {
        foreach ([
            [['us-er'], null, null, '--entity'],
            [[], 'many', null, '--chunk'],
            [[], null, 'not a time at all', '--since'],
        ] as [$entities, $chunk, $since, $option]) {
            try {
                VerifyOptions::fromInput($entities, $chunk, $since, null, null);
                self::fail("{$option} accepted");
            } catch (InvalidArgumentException $e) {
                self::assertStringContainsString($option, $e->getMessage());
            }
        }
    }

    public function testConfigGivesDatabasesMappingAndKafkaNames(): void
    {
        $options = VerifyOptions::fromConfig(Config::fromArray([
            'databases' => ['legacy_dsn' => 'postgres://l', 'revamp_dsn' => 'mysql://r'],
            'mapping_path' => '/m.toml',
            'consumer' => ['conflict_window_ms' => '250'],
        ]));

        self::assertSame('postgres://l', $options['legacy_dsn']);
        self::assertSame('/m.toml', $options['mapping_path']);
        self::assertSame('dbsync', $options['group_prefix']);
        self::assertSame(250, $options['conflict_window_ms']);
        self::assertArrayNotHasKey('kafka_properties', $options);

        $this->expectException(InvalidConfig::class);
        VerifyOptions::fromConfig(Config::fromArray(['mapping_path' => '/m.toml']));
    }
}
