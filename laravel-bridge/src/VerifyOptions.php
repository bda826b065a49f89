<?php

/**
 * dbsync:verify's and dbsync:repair's settings as the keys DbSync\verify() and DbSync\repair() take: the databases,
 * mapping and Kafka names from config, and the filters given on the command line (--entity, --chunk, --since,
 * --min-key, --max-key, --dry-run), refused with a message naming the option when they cannot be used. Ranges are
 * checked by the core.
 */

declare(strict_types=1);

namespace DbSync\Laravel;

use DateTimeImmutable;
use DateTimeZone;
use DbSync\Laravel\Exceptions\InvalidConfig;
use Exception;
use InvalidArgumentException;

final class VerifyOptions
{
    /**
     * What the core takes from config.
     *
     * @return array<string, mixed>
     *
     * @throws InvalidConfig when a database or the mapping file is not configured, or a value is unusable
     */
    public static function fromConfig(Config $config): array
    {
        $config->check();
        $options = [
            'legacy_dsn' => $config->legacyDsn ?? throw InvalidConfig::missing('databases.legacy_dsn'),
            'revamp_dsn' => $config->revampDsn ?? throw InvalidConfig::missing('databases.revamp_dsn'),
            'mapping_path' => $config->mappingPath ?? throw InvalidConfig::missing('mapping_path'),
            'brokers' => $config->brokers,
            'group_prefix' => $config->groupPrefix,
            'legacy_topic' => $config->legacyTopic,
            'revamp_topic' => $config->revampTopic,
        ];
        if (isset($config->numbers['conflict_window_ms'])) {
            $options['conflict_window_ms'] = $config->numbers['conflict_window_ms'];
        }
        if ($config->kafkaProperties !== []) {
            $options['kafka_properties'] = $config->kafkaProperties;
        }

        return $options;
    }

    /**
     * The command-line filters.
     *
     * @param mixed $entities --entity values; each may hold several names separated by commas
     *
     * @return array<string, mixed>
     *
     * @throws InvalidArgumentException when an option cannot be used (the message names it)
     */
    public static function fromInput(mixed $entities, mixed $chunk, mixed $since, mixed $minKey, mixed $maxKey): array
    {
        $options = ['entities' => self::entities($entities)];
        foreach (['chunk' => [$chunk, 'chunk_size'], 'min-key' => [$minKey, 'min_key'], 'max-key' => [$maxKey, 'max_key']]
            as $option => [$value, $field]) {
            if ($value !== null) {
                $options[$field] = self::integer($option, $value);
            }
        }
        if (is_string($since) && trim($since) !== '') {
            $options['since'] = self::since($since);
        }

        return $options;
    }

    /** @return list<string> */
    private static function entities(mixed $given): array
    {
        $names = [];
        foreach ((array) ($given ?? []) as $value) {
            foreach (explode(',', is_scalar($value) ? (string) $value : '') as $name) {
                $name = trim($name);
                if (preg_match('/^[A-Za-z_][A-Za-z0-9_]*$/', $name) !== 1) {
                    throw new InvalidArgumentException('--entity must name an entity of the mapping such as user, got '
                        . var_export($name, true) . '.');
                }
                $names[$name] = true;
            }
        }

        return array_keys($names);
    }

    private static function integer(string $option, mixed $value): int
    {
        $text = is_int($value) ? (string) $value : $value;
        if (!is_string($text) || preg_match('/^\s*-?\d{1,19}\s*$/', $text) !== 1) {
            throw new InvalidArgumentException("--{$option} must be a whole number, got " . var_export($value, true) . '.');
        }

        return (int) $text;
    }

    /** Any time PHP reads (`2026-05-01T12:00:00Z`, `-10 minutes`) as an RFC 3339 UTC time with microseconds. */
    private static function since(string $text): string
    {
        try {
            $at = new DateTimeImmutable(trim($text), new DateTimeZone('UTC'));
        } catch (Exception) {
            throw new InvalidArgumentException('--since must be a time such as 2026-05-01T12:00:00Z or "-1 hour", got '
                . var_export($text, true) . '.');
        }

        return $at->setTimezone(new DateTimeZone('UTC'))->format('Y-m-d\TH:i:s.u\Z');
    }
}
