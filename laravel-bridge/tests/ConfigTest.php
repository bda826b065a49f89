<?php

/**
 * Config::fromArray: nested defaults, env-style strings, and the array each direction hands to the extension.
 */

declare(strict_types=1);

namespace DbSync\Laravel\Tests;

use DbSync\Laravel\Config;
use DbSync\Laravel\Direction;
use DbSync\Laravel\Exceptions\InvalidConfig;
use PHPUnit\Framework\TestCase;

final class ConfigTest extends TestCase
{
    private const DSNS = [
        'databases' => [
            'legacy_dsn' => 'postgres://sync:pw@127.0.0.1:5432/legacy_db',
            'revamp_dsn' => 'mysql://sync:pw@127.0.0.1:3306/revamp_db',
        ],
        'mapping_path' => '/srv/dbsync/mapping.toml',
    ];

    public function testEmptyConfigTakesEveryDefault(): void
    {
        $config = Config::fromArray([]);

        self::assertSame('127.0.0.1:9092', $config->brokers);
        self::assertSame('dbsync', $config->groupPrefix);
        self::assertSame(['legacy.events', 'revamp.events', 'sync.dlq'], [
            $config->legacyTopic,
            $config->revampTopic,
            $config->dlqTopic,
        ]);
        self::assertSame([500, 50, 5, 200], [
            $config->batchSize,
            $config->batchLingerMs,
            $config->maxRetries,
            $config->retryBackoffMs,
        ]);
        self::assertSame([30000, 336, 1000], [
            $config->parentWaitMs,
            $config->ledgerRetentionHours,
            $config->conflictWindowMs,
        ]);
        self::assertNull($config->legacyDsn);
        self::assertNull($config->mappingPath);
    }

    public function testNestedKeysMergeOneByOne(): void
    {
        // A published config that sets one topic keeps the defaults of its siblings (mergeConfigFrom would not).
        $config = Config::fromArray(['kafka' => ['topics' => ['legacy' => 'pg.changes']], 'consumer' => ['max_retries' => 9]]);

        self::assertSame('pg.changes', $config->legacyTopic);
        self::assertSame('revamp.events', $config->revampTopic);
        self::assertSame('127.0.0.1:9092', $config->brokers);
        self::assertSame(9, $config->maxRetries);
        self::assertSame(500, $config->batchSize);
    }

    public function testUnsetEnvValuesFallBackToDefaults(): void
    {
        $config = Config::fromArray(['kafka' => ['brokers' => null, 'group_prefix' => ''], 'consumer' => ['batch_size' => null]]);

        self::assertSame('127.0.0.1:9092', $config->brokers);
        self::assertSame('dbsync', $config->groupPrefix);
        self::assertSame(500, $config->batchSize);
    }

    public function testNumbersFromEnvStringsBecomeIntegers(): void
    {
        $config = Config::fromArray(['consumer' => ['batch_size' => '250', 'batch_linger_ms' => ' 10 ']]);

        self::assertSame(250, $config->batchSize);
        self::assertSame(10, $config->batchLingerMs);
    }

    public function testWaitRetentionAndConflictWindowComeFromTheirVariables(): void
    {
        $config = Config::fromArray(['consumer' => [
            'parent_wait_ms' => '5000',
            'ledger_retention_hours' => 720,
            'conflict_window_ms' => '',
        ]]);

        self::assertSame(5000, $config->parentWaitMs);
        self::assertSame(720, $config->ledgerRetentionHours);
        self::assertSame(1000, $config->conflictWindowMs, 'an empty variable means the default');
    }

    /** @return array<string, array{string, string}> */
    public static function newNumbers(): array
    {
        return [
            'parent wait' => ['parent_wait_ms', 'DBSYNC_PARENT_WAIT_MS'],
            'ledger retention' => ['ledger_retention_hours', 'DBSYNC_LEDGER_RETENTION_HOURS'],
            'conflict window' => ['conflict_window_ms', 'DBSYNC_CONFLICT_WINDOW_MS'],
        ];
    }

    /** @dataProvider newNumbers */
    public function testANewNumberThatIsNotWholeSaysWhichVariableToFix(string $key, string $envVar): void
    {
        $this->expectException(InvalidConfig::class);
        $this->expectExceptionMessage($envVar);

        Config::fromArray(['consumer' => [$key => '1.5s']]);
    }

    public function testANumberThatIsNotWholeSaysWhichVariableToFix(): void
    {
        $this->expectException(InvalidConfig::class);
        $this->expectExceptionMessage('DBSYNC_BATCH_SIZE');

        Config::fromArray(['consumer' => ['batch_size' => '5OO']]);
    }

    public function testLegacyToRevampReadsLegacyEventsIntoTheRevampDatabase(): void
    {
        $array = Config::fromArray(self::DSNS + ['kafka' => ['group_prefix' => 'acme']])
            ->forDirection(Direction::LegacyToRevamp);

        self::assertSame([
            'brokers' => '127.0.0.1:9092',
            'group_id' => 'acme-legacy-to-revamp',
            'topic' => 'legacy.events',
            'dlq_topic' => 'sync.dlq',
            'direction' => 'legacy_to_revamp',
            'target_dsn' => 'mysql://sync:pw@127.0.0.1:3306/revamp_db',
            'mapping_path' => '/srv/dbsync/mapping.toml',
            'batch_size' => 500,
            'batch_linger_ms' => 50,
            'max_retries' => 5,
            'retry_backoff_ms' => 200,
            'parent_wait_ms' => 30000,
            'ledger_retention_hours' => 336,
            'conflict_window_ms' => 1000,
        ], $array);
    }

    public function testAnInstanceIdIsPassedOnlyWhenSet(): void
    {
        $unset = Config::fromArray(self::DSNS)->forDirection(Direction::LegacyToRevamp);
        $set = Config::fromArray(self::DSNS + ['consumer' => ['instance_id' => 'web-2-l2r']])
            ->forDirection(Direction::LegacyToRevamp);

        self::assertArrayNotHasKey('instance_id', $unset);
        self::assertSame('web-2-l2r', $set['instance_id']);
    }

    public function testRevampToLegacyIsTheReverse(): void
    {
        $array = Config::fromArray(self::DSNS)->forDirection(Direction::RevampToLegacy);

        self::assertSame('revamp.events', $array['topic']);
        self::assertSame('revamp_to_legacy', $array['direction']);
        self::assertSame('postgres://sync:pw@127.0.0.1:5432/legacy_db', $array['target_dsn']);
        self::assertSame('dbsync-revamp-to-legacy', $array['group_id']);
    }

    public function testReplayReadsTheDeadLetterTopicWithItsOwnGroup(): void
    {
        $config = Config::fromArray(['kafka' => ['group_prefix' => 'acme', 'topics' => ['dlq' => 'acme.dlq']]]);

        self::assertSame([
            'brokers' => '127.0.0.1:9092',
            'dlq_topic' => 'acme.dlq',
            'group_id' => 'acme-dlq-replay',
        ], $config->forReplay());
    }

    public function testOnlyTheTargetDatabaseOfTheDirectionIsRequired(): void
    {
        $config = Config::fromArray(['databases' => ['revamp_dsn' => 'mysql://x/y'], 'mapping_path' => '/m.toml']);

        self::assertSame('mysql://x/y', $config->forDirection(Direction::LegacyToRevamp)['target_dsn']);
        $this->expectException(InvalidConfig::class);
        $this->expectExceptionMessage('DBSYNC_LEGACY_DSN');
        $config->forDirection(Direction::RevampToLegacy);
    }

    public function testAMissingMappingPathSaysWhichVariableToSet(): void
    {
        $this->expectException(InvalidConfig::class);
        $this->expectExceptionMessage('DBSYNC_MAPPING_PATH');

        Config::fromArray(['databases' => self::DSNS['databases']])->forDirection(Direction::LegacyToRevamp);
    }

    public function testARelativeMappingPathIsResolvedAgainstTheBasePath(): void
    {
        self::assertSame('/app/mapping/x.toml', Config::fromArray(['mapping_path' => 'mapping/x.toml'], '/app/')->mappingPath);
        self::assertSame('/abs/x.toml', Config::fromArray(['mapping_path' => '/abs/x.toml'], '/app')->mappingPath);
        self::assertSame('mapping/x.toml', Config::fromArray(['mapping_path' => 'mapping/x.toml'])->mappingPath);
    }

    public function testEveryKeyNamesItsEnvironmentVariable(): void
    {
        $file = require __DIR__ . '/../config/dbsync.php';
        $keys = self::leafKeys($file);

        self::assertEqualsCanonicalizing(array_keys(Config::ENV), $keys);
        self::assertEqualsCanonicalizing($keys, self::leafKeys(Config::DEFAULTS));
    }

    /** @return list<string> */
    private static function leafKeys(array $array, string $prefix = ''): array
    {
        $keys = [];
        foreach ($array as $key => $value) {
            $keys = array_merge($keys, is_array($value) ? self::leafKeys($value, "{$prefix}{$key}.") : ["{$prefix}{$key}"]);
        }

        return $keys;
    }
}
