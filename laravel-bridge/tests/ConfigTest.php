<?php

/**
 * Config::fromArray: only what is set is passed on (the core defaults the rest), env-style strings, and the arrays
 * handed to the extension.
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

    public function testOnlyTheNamesTheBridgeOwnsHaveDefaults(): void
    {
        $config = Config::fromArray([]);

        self::assertSame('127.0.0.1:9092', $config->brokers);
        self::assertSame('dbsync', $config->groupPrefix);
        self::assertSame(['legacy.events', 'revamp.events'], [$config->legacyTopic, $config->revampTopic]);
        // Everything else is the core's to default.
        self::assertNull($config->dlqTopic);
        self::assertNull($config->connectUrl);
        self::assertNull($config->instanceId);
        self::assertSame([], $config->numbers);
        self::assertNull($config->legacyDsn);
        self::assertNull($config->mappingPath);
    }

    public function testUnsetSettingsAreNotPassedSoTheCoreDefaultsApply(): void
    {
        $array = Config::fromArray(self::DSNS + ['consumer' => ['batch_size' => null, 'max_retries' => '']])
            ->forDirection(Direction::LegacyToRevamp);

        foreach (['dlq_topic', 'batch_size', 'batch_linger_ms', 'max_retries', 'retry_backoff_ms', 'parent_wait_ms',
            'ledger_retention_hours', 'conflict_window_ms', 'instance_id'] as $key) {
            self::assertArrayNotHasKey($key, $array);
        }
        self::assertSame([], (Config::fromArray([]))->forSupervisor());
        self::assertArrayNotHasKey('dlq_topic', Config::fromArray([])->forReplay());
    }

    public function testUnsetEnvValuesFallBackToTheBridgeNames(): void
    {
        $config = Config::fromArray(['kafka' => ['brokers' => null, 'group_prefix' => '']]);

        self::assertSame('127.0.0.1:9092', $config->brokers);
        self::assertSame('dbsync', $config->groupPrefix);
    }

    public function testNumbersFromEnvStringsBecomeIntegers(): void
    {
        $array = Config::fromArray(self::DSNS + ['consumer' => ['batch_size' => '250', 'batch_linger_ms' => ' 10 ']])
            ->forDirection(Direction::LegacyToRevamp);

        self::assertSame(250, $array['batch_size']);
        self::assertSame(10, $array['batch_linger_ms']);
    }

    public function testWaitRetentionAndConflictWindowComeFromTheirVariables(): void
    {
        $config = Config::fromArray(['consumer' => [
            'parent_wait_ms' => '5000',
            'ledger_retention_hours' => 720,
            'conflict_window_ms' => '',
        ]]);

        self::assertSame(['parent_wait_ms' => 5000, 'ledger_retention_hours' => 720], $config->numbers);
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

        Config::fromArray(self::DSNS + ['consumer' => [$key => '1.5s']])->forDirection(Direction::LegacyToRevamp);
    }

    public function testANumberThatIsNotWholeSaysWhichVariableToFix(): void
    {
        $this->expectException(InvalidConfig::class);
        $this->expectExceptionMessage('DBSYNC_BATCH_SIZE');

        $config = Config::fromArray(['consumer' => ['batch_size' => '5OO']]);

        $config->forReplay();
    }

    public function testFromArrayNeverThrowsSoTheSingletonAlwaysResolves(): void
    {
        $config = Config::fromArray(['consumer' => ['batch_size' => 'many'], 'kafka' => ['brokers' => ['not', 'a', 'string']]]);

        self::assertSame('127.0.0.1:9092', $config->brokers);
        $this->expectException(InvalidConfig::class);
        $config->check();
    }

    public function testLegacyToRevampReadsLegacyEventsIntoTheRevampDatabase(): void
    {
        $array = Config::fromArray(self::DSNS + ['kafka' => ['group_prefix' => 'acme']])
            ->forDirection(Direction::LegacyToRevamp);

        self::assertSame([
            'brokers' => '127.0.0.1:9092',
            'group_id' => 'acme-legacy-to-revamp',
            'topic' => 'legacy.events',
            'direction' => 'legacy_to_revamp',
            'target_dsn' => 'mysql://sync:pw@127.0.0.1:3306/revamp_db',
            'mapping_path' => '/srv/dbsync/mapping.toml',
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

    public function testTheLogDirectoryIsOptionalAndResolvedAgainstTheBasePath(): void
    {
        self::assertNull(Config::fromArray([])->logDirectory);
        self::assertNull(Config::fromArray(['log_directory' => ''])->logDirectory);
        self::assertSame('/app/storage/logs', Config::fromArray(['log_directory' => 'storage/logs'], '/app')->logDirectory);
        self::assertSame('/var/log/dbsync', Config::fromArray(['log_directory' => '/var/log/dbsync'], '/app')->logDirectory);
    }

    public function testEveryKeyNamesItsEnvironmentVariable(): void
    {
        $file = require __DIR__ . '/../config/dbsync.php';
        $keys = self::leafKeys($file);

        self::assertEqualsCanonicalizing(array_keys(Config::ENV), $keys);
        self::assertEmpty(array_diff(array_keys(Config::NAMES), $keys));
        // No copies of defaults in the published file: every value is a bare env() (null when unset).
        self::assertDoesNotMatchRegularExpression("/env\\('DBSYNC_[A-Z_]+',/", (string) file_get_contents(__DIR__ . '/../config/dbsync.php'));
    }

    public function testTheStatusGetsBothDatabasesAndOnlyWhatIsSet(): void
    {
        $array = Config::fromArray(self::DSNS + ['consumer' => ['conflict_window_ms' => '250']])->forStatus();

        self::assertSame(['brokers', 'group_prefix', 'legacy_topic', 'revamp_topic', 'legacy_dsn', 'revamp_dsn',
            'conflict_window_ms'], array_keys($array));
        self::assertSame(250, $array['conflict_window_ms']);
        $this->expectException(InvalidConfig::class);
        Config::fromArray([])->forStatus();
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
