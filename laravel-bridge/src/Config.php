<?php

/**
 * The dbsync settings read once from config('dbsync') into a typed object (bound as a singleton by the provider),
 * and the arrays the extension takes: DbSync\Consumer's per direction, DbSync\replayDeadLetters()'s and
 * DbSync\Supervisor's. Only what the user set is passed on: the core's defaults are the only defaults. Values are
 * validated by the core; here only whole numbers are read from env strings.
 */

declare(strict_types=1);

namespace DbSync\Laravel;

use DbSync\Laravel\Exceptions\InvalidConfig;

final class Config
{
    /**
     * The names the bridge owns, with their defaults. The core takes one topic and one consumer group per consumer
     * and has no default for them or for the brokers; which topic and group belong to which direction is the
     * bridge's business. Everything else defaults in the core.
     */
    public const NAMES = [
        'kafka.brokers' => '127.0.0.1:9092',
        'kafka.group_prefix' => 'dbsync',
        'kafka.topics.legacy' => 'legacy.events',
        'kafka.topics.revamp' => 'revamp.events',
    ];

    /** The consumer settings passed to the core only when set, by config key => the core's field. */
    private const CONSUMER_NUMBERS = [
        'consumer.batch_size' => 'batch_size',
        'consumer.batch_linger_ms' => 'batch_linger_ms',
        'consumer.max_retries' => 'max_retries',
        'consumer.retry_backoff_ms' => 'retry_backoff_ms',
        'consumer.parent_wait_ms' => 'parent_wait_ms',
        'consumer.ledger_retention_hours' => 'ledger_retention_hours',
        'consumer.conflict_window_ms' => 'conflict_window_ms',
    ];

    /** The environment variable behind each key, for messages that say what to set. */
    public const ENV = [
        'kafka.brokers' => 'DBSYNC_BROKERS',
        'kafka.group_prefix' => 'DBSYNC_GROUP_PREFIX',
        'kafka.topics.legacy' => 'DBSYNC_LEGACY_TOPIC',
        'kafka.topics.revamp' => 'DBSYNC_REVAMP_TOPIC',
        'kafka.topics.dlq' => 'DBSYNC_DLQ_TOPIC',
        'kafka.options' => 'DBSYNC_KAFKA_PROPERTIES',
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
        'consumer.metrics_addr' => 'DBSYNC_METRICS_ADDR',
        'log_directory' => 'DBSYNC_LOG_DIR',
    ];

    /**
     * @param array<string, int> $numbers the consumer numbers that are set, by the core's field name
     */
    private function __construct(
        public readonly string $brokers,
        public readonly string $groupPrefix,
        public readonly string $legacyTopic,
        public readonly string $revampTopic,
        public readonly ?string $dlqTopic,
        public readonly ?string $legacyDsn,
        public readonly ?string $revampDsn,
        public readonly ?string $mappingPath,
        public readonly ?string $connectUrl,
        public readonly array $numbers,
        public readonly ?string $instanceId,
        private readonly ?InvalidConfig $problem,
        /** @var array<string, string> pass-through librdkafka properties (KafkaProperties), empty when unset */
        public readonly array $kafkaProperties = [],
        /** host:port of the consumer's Prometheus endpoint; null: none */
        public readonly ?string $metricsAddr = null,
        /** where the daily log file goes besides stderr; null: stderr only */
        public readonly ?string $logDirectory = null,
    ) {
    }

    /**
     * Never throws, so that resolving the singleton cannot fail before a command can report the problem with the
     * right exit code: an unusable value is kept and thrown by the methods that hand the settings on.
     *
     * @param array<string, mixed> $config config('dbsync'); a missing key, null or '' means "not set"
     * @param string|null $basePath a relative mapping_path is resolved against it (the app's base path)
     */
    public static function fromArray(array $config, ?string $basePath = null): self
    {
        $get = static fn (string $key): ?string => self::optional(self::dig($config, $key));
        $numbers = [];
        $problem = null;
        foreach (self::CONSUMER_NUMBERS as $key => $field) {
            $value = self::dig($config, $key);
            if (self::optional($value) === null) {
                continue;
            }
            $number = self::integer($value);
            if ($number === null) {
                $problem ??= InvalidConfig::notAnInteger($key, $value);
                continue;
            }
            $numbers[$field] = $number;
        }
        $kafkaProperties = [];
        try {
            $kafkaProperties = KafkaProperties::parse(self::dig($config, KafkaProperties::KEY));
        } catch (InvalidConfig $e) {
            $problem ??= $e;
        }

        return new self(
            brokers: $get('kafka.brokers') ?? self::NAMES['kafka.brokers'],
            groupPrefix: $get('kafka.group_prefix') ?? self::NAMES['kafka.group_prefix'],
            legacyTopic: $get('kafka.topics.legacy') ?? self::NAMES['kafka.topics.legacy'],
            revampTopic: $get('kafka.topics.revamp') ?? self::NAMES['kafka.topics.revamp'],
            dlqTopic: $get('kafka.topics.dlq'),
            legacyDsn: $get('databases.legacy_dsn'),
            revampDsn: $get('databases.revamp_dsn'),
            mappingPath: self::resolve($get('mapping_path'), $basePath),
            connectUrl: $get('connect.url'),
            numbers: $numbers,
            instanceId: $get('consumer.instance_id'),
            problem: $problem,
            kafkaProperties: $kafkaProperties,
            metricsAddr: $get('consumer.metrics_addr'),
            logDirectory: self::resolve($get('log_directory'), $basePath),
        );
    }

    /**
     * The array DbSync\Consumer takes for one direction (the keys of the core's SyncConfig), with only the settings
     * that are set beyond the required ones.
     *
     * @return array<string, string|int>
     *
     * @throws InvalidConfig when a value is unusable, or the target database or the mapping file is not configured
     */
    public function forDirection(Direction $direction): array
    {
        $this->check();
        [$topic, $dsn, $dsnKey] = match ($direction) {
            Direction::LegacyToRevamp => [$this->legacyTopic, $this->revampDsn, 'databases.revamp_dsn'],
            Direction::RevampToLegacy => [$this->revampTopic, $this->legacyDsn, 'databases.legacy_dsn'],
        };

        return self::withoutNulls([
            'brokers' => $this->brokers,
            'group_id' => "{$this->groupPrefix}-{$direction->groupSuffix()}",
            'topic' => $topic,
            'dlq_topic' => $this->dlqTopic,
            'direction' => $direction->value,
            'target_dsn' => $dsn ?? throw InvalidConfig::missing($dsnKey),
            'mapping_path' => $this->mappingPath ?? throw InvalidConfig::missing('mapping_path'),
            'instance_id' => $this->instanceId,
            'metrics_addr' => $this->metricsAddr,
        ]) + $this->numbers + $this->kafkaPropertiesField();
    }

    /**
     * The Kafka part of what DbSync\replayDeadLetters() takes (the keys of the core's ReplayOptions); the command
     * adds the reasons, dry_run and max_messages it was given.
     *
     * @return array<string, string>
     *
     * @throws InvalidConfig when a value is unusable
     */
    public function forReplay(): array
    {
        $this->check();

        return self::withoutNulls([
            'brokers' => $this->brokers,
            'dlq_topic' => $this->dlqTopic,
            'group_id' => "{$this->groupPrefix}-dlq-replay",
        ]) + $this->kafkaPropertiesField();
    }

    /** @return array<string, array<string, string>> the core's `kafka_properties` field, or nothing when unset */
    private function kafkaPropertiesField(): array
    {
        return $this->kafkaProperties === [] ? [] : ['kafka_properties' => $this->kafkaProperties];
    }

    /**
     * What DbSync\Supervisor takes: the Connect URL when set (else the core's default).
     *
     * @return array<string, string>
     */
    public function forSupervisor(): array
    {
        return self::withoutNulls(['connect_url' => $this->connectUrl]);
    }

    /**
     * What DbSync\status() takes (the keys of the core's StatusOptions) from config; the command adds its options.
     *
     * @return array<string, mixed>
     *
     * @throws InvalidConfig when a database is not configured or a value is unusable
     */
    public function forStatus(): array
    {
        $this->check();

        return self::withoutNulls([
            'brokers' => $this->brokers,
            'group_prefix' => $this->groupPrefix,
            'legacy_topic' => $this->legacyTopic,
            'revamp_topic' => $this->revampTopic,
            'dlq_topic' => $this->dlqTopic,
            'legacy_dsn' => $this->legacyDsn ?? throw InvalidConfig::missing('databases.legacy_dsn'),
            'revamp_dsn' => $this->revampDsn ?? throw InvalidConfig::missing('databases.revamp_dsn'),
            'connect_url' => $this->connectUrl,
            'conflict_window_ms' => $this->numbers['conflict_window_ms'] ?? null,
        ]) + $this->kafkaPropertiesField();
    }

    /** @throws InvalidConfig the first unusable value fromArray() met */
    public function check(): void
    {
        if ($this->problem !== null) {
            throw $this->problem;
        }
    }

    /**
     * @param array<string, mixed> $values
     *
     * @return array<string, mixed>
     */
    private static function withoutNulls(array $values): array
    {
        return array_filter($values, static fn (mixed $value): bool => $value !== null);
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

    private static function optional(mixed $value): ?string
    {
        return is_scalar($value) && trim((string) $value) !== '' ? trim((string) $value) : null;
    }

    /** A whole number from config (int) or the environment (a string of digits); null when it is not one. */
    private static function integer(mixed $value): ?int
    {
        if (is_int($value)) {
            return $value;
        }
        if (is_string($value) && preg_match('/^\s*-?\d+\s*$/', $value) === 1) {
            return (int) $value;
        }

        return null;
    }

    private static function resolve(?string $path, ?string $basePath): ?string
    {
        if ($path === null || $basePath === null || str_starts_with($path, '/')) {
            return $path;
        }

        return rtrim($basePath, '/') . '/' . $path;
    }
}
