<?php

/**
 * The dbsync settings read once from config('dbsync') into a typed object, and the arrays the extension expects:
 * DbSync\Consumer's for each direction, DbSync\replayDeadLetters()'s. Maps names only: the extension validates
 * values.
 */

declare(strict_types=1);

namespace DbSync\Laravel;

use DbSync\Laravel\Exceptions\InvalidConfig;

final class Config
{
    /**
     * Defaults merged under the given config key by key, so a published config/dbsync.php that lacks a newer key
     * still works (Laravel's mergeConfigFrom merges only the top level). Mirrors config/dbsync.php and stack.env.
     */
    public const DEFAULTS = [
        'kafka' => [
            'brokers' => '127.0.0.1:9092',
            'group_prefix' => 'dbsync',
            'topics' => ['legacy' => 'legacy.events', 'revamp' => 'revamp.events', 'dlq' => 'sync.dlq'],
        ],
        'databases' => ['legacy_dsn' => null, 'revamp_dsn' => null],
        'connect' => ['url' => 'http://127.0.0.1:8083'],
        'mapping_path' => null,
        'consumer' => [
            'batch_size' => 500,
            'batch_linger_ms' => 50,
            'max_retries' => 5,
            'retry_backoff_ms' => 200,
            'parent_wait_ms' => 30000,
            'ledger_retention_hours' => 336,
            'conflict_window_ms' => 1000,
            'instance_id' => null,
        ],
    ];

    /** The environment variable behind each key, for messages that say what to set. */
    public const ENV = [
        'kafka.brokers' => 'DBSYNC_BROKERS',
        'kafka.group_prefix' => 'DBSYNC_GROUP_PREFIX',
        'kafka.topics.legacy' => 'DBSYNC_LEGACY_TOPIC',
        'kafka.topics.revamp' => 'DBSYNC_REVAMP_TOPIC',
        'kafka.topics.dlq' => 'DBSYNC_DLQ_TOPIC',
        'databases.legacy_dsn' => 'DBSYNC_LEGACY_DSN',
        'databases.revamp_dsn' => 'DBSYNC_REVAMP_DSN',
        'connect.url' => 'DBSYNC_CONNECT_URL',
        'mapping_path' => 'DBSYNC_MAPPING_PATH',
        'consumer.batch_size' => 'DBSYNC_BATCH_SIZE',
        'consumer.batch_linger_ms' => 'DBSYNC_BATCH_LINGER_MS',
        'consumer.max_retries' => 'DBSYNC_MAX_RETRIES',
        'consumer.retry_backoff_ms' => 'DBSYNC_RETRY_BACKOFF_MS',
        'consumer.parent_wait_ms' => 'DBSYNC_PARENT_WAIT_MS',
        'consumer.ledger_retention_hours' => 'DBSYNC_LEDGER_RETENTION_HOURS',
        'consumer.conflict_window_ms' => 'DBSYNC_CONFLICT_WINDOW_MS',
        'consumer.instance_id' => 'DBSYNC_INSTANCE_ID',
    ];

    private function __construct(
        public readonly string $brokers,
        public readonly string $groupPrefix,
        public readonly string $legacyTopic,
        public readonly string $revampTopic,
        public readonly string $dlqTopic,
        public readonly ?string $legacyDsn,
        public readonly ?string $revampDsn,
        public readonly ?string $mappingPath,
        public readonly int $batchSize,
        public readonly int $batchLingerMs,
        public readonly int $maxRetries,
        public readonly int $retryBackoffMs,
        public readonly int $parentWaitMs,
        public readonly int $ledgerRetentionHours,
        public readonly int $conflictWindowMs,
        public readonly ?string $instanceId,
    ) {
    }

    /**
     * @param array<string, mixed> $config config('dbsync'); null or '' values fall back to the defaults
     * @param string|null $basePath a relative mapping_path is resolved against it (the app's base path)
     *
     * @throws InvalidConfig when a required name is empty or a number is not a whole number
     */
    public static function fromArray(array $config, ?string $basePath = null): self
    {
        $merged = self::merge(self::DEFAULTS, $config);
        $get = static fn (string $key): mixed => self::dig($merged, $key);

        return new self(
            brokers: self::required($get, 'kafka.brokers'),
            groupPrefix: self::required($get, 'kafka.group_prefix'),
            legacyTopic: self::required($get, 'kafka.topics.legacy'),
            revampTopic: self::required($get, 'kafka.topics.revamp'),
            dlqTopic: self::required($get, 'kafka.topics.dlq'),
            legacyDsn: self::optional($get('databases.legacy_dsn')),
            revampDsn: self::optional($get('databases.revamp_dsn')),
            mappingPath: self::resolve(self::optional($get('mapping_path')), $basePath),
            batchSize: self::integer($get, 'consumer.batch_size'),
            batchLingerMs: self::integer($get, 'consumer.batch_linger_ms'),
            maxRetries: self::integer($get, 'consumer.max_retries'),
            retryBackoffMs: self::integer($get, 'consumer.retry_backoff_ms'),
            parentWaitMs: self::integer($get, 'consumer.parent_wait_ms'),
            ledgerRetentionHours: self::integer($get, 'consumer.ledger_retention_hours'),
            conflictWindowMs: self::integer($get, 'consumer.conflict_window_ms'),
            instanceId: self::optional($get('consumer.instance_id')),
        );
    }

    /**
     * The array DbSync\Consumer takes for one direction (the keys of the core's SyncConfig).
     *
     * @return array<string, string|int>
     *
     * @throws InvalidConfig when the target database or the mapping file is not configured
     */
    public function forDirection(Direction $direction): array
    {
        [$topic, $dsn, $dsnKey] = match ($direction) {
            Direction::LegacyToRevamp => [$this->legacyTopic, $this->revampDsn, 'databases.revamp_dsn'],
            Direction::RevampToLegacy => [$this->revampTopic, $this->legacyDsn, 'databases.legacy_dsn'],
        };

        $settings = [
            'brokers' => $this->brokers,
            'group_id' => "{$this->groupPrefix}-{$direction->groupSuffix()}",
            'topic' => $topic,
            'dlq_topic' => $this->dlqTopic,
            'direction' => $direction->value,
            'target_dsn' => $dsn ?? throw InvalidConfig::missing($dsnKey),
            'mapping_path' => $this->mappingPath ?? throw InvalidConfig::missing('mapping_path'),
            'batch_size' => $this->batchSize,
            'batch_linger_ms' => $this->batchLingerMs,
            'max_retries' => $this->maxRetries,
            'retry_backoff_ms' => $this->retryBackoffMs,
            'parent_wait_ms' => $this->parentWaitMs,
            'ledger_retention_hours' => $this->ledgerRetentionHours,
            'conflict_window_ms' => $this->conflictWindowMs,
        ];
        // Unset: the core's default, <hostname>-<direction>-0.
        if ($this->instanceId !== null) {
            $settings['instance_id'] = $this->instanceId;
        }

        return $settings;
    }

    /**
     * The Kafka part of what DbSync\replayDeadLetters() takes (the keys of the core's ReplayOptions); the command
     * adds the reasons, dry_run and max_messages it was given.
     *
     * @return array{brokers: string, dlq_topic: string, group_id: string}
     */
    public function forReplay(): array
    {
        return [
            'brokers' => $this->brokers,
            'dlq_topic' => $this->dlqTopic,
            'group_id' => "{$this->groupPrefix}-dlq-replay",
        ];
    }

    /**
     * Recursive merge where the given config wins, except that null and '' mean "not set" (an unset env var).
     *
     * @param array<string, mixed> $defaults
     * @param array<string, mixed> $given
     *
     * @return array<string, mixed>
     */
    private static function merge(array $defaults, array $given): array
    {
        foreach ($given as $key => $value) {
            if ($value === null || $value === '') {
                continue;
            }
            $defaults[$key] = is_array($value) && is_array($defaults[$key] ?? null)
                ? self::merge($defaults[$key], $value)
                : $value;
        }

        return $defaults;
    }

    /** @param array<string, mixed> $config */
    private static function dig(array $config, string $key): mixed
    {
        foreach (explode('.', $key) as $segment) {
            if (!is_array($config) || !array_key_exists($segment, $config)) {
                return null;
            }
            $config = $config[$segment];
        }

        return $config;
    }

    private static function required(callable $get, string $key): string
    {
        return self::optional($get($key)) ?? throw InvalidConfig::missing($key);
    }

    private static function optional(mixed $value): ?string
    {
        return is_scalar($value) && trim((string) $value) !== '' ? trim((string) $value) : null;
    }

    private static function integer(callable $get, string $key): int
    {
        $value = $get($key);
        if (is_int($value)) {
            return $value;
        }
        if (is_string($value) && preg_match('/^\s*-?\d+\s*$/', $value) === 1) {
            return (int) $value;
        }

        throw InvalidConfig::notAnInteger($key, $value);
    }

    private static function resolve(?string $path, ?string $basePath): ?string
    {
        if ($path === null || $basePath === null || str_starts_with($path, '/')) {
            return $path;
        }

        return rtrim($basePath, '/') . '/' . $path;
    }
}
