<?php

/**
 * Pass-through librdkafka properties (TLS, SASL, timeouts) from config('dbsync.kafka.options'): either an array
 * (`['security.protocol' => 'SASL_SSL', ...]`) or the DBSYNC_KAFKA_PROPERTIES string
 * (`security.protocol=SASL_SSL,sasl.mechanism=SCRAM-SHA-512,...`). The core checks the names (and refuses those it
 * sets itself); here they are only read into the string map the core takes as `kafka_properties`. A message never
 * quotes an entry: a value split at a comma may be part of a password.
 */

declare(strict_types=1);

namespace DbSync\Laravel;

use DbSync\Laravel\Exceptions\InvalidConfig;

final class KafkaProperties
{
    public const KEY = 'kafka.options';
    public const ENV = 'DBSYNC_KAFKA_PROPERTIES';

    /**
     * @param mixed $options config('dbsync.kafka.options'): null/'' (none), an array, or "name=value,name=value"
     *
     * @return array<string, string> empty when none are set
     *
     * @throws InvalidConfig when an entry is not name=value
     */
    public static function parse(mixed $options): array
    {
        if ($options === null || (is_string($options) && trim($options) === '')) {
            return [];
        }
        if (is_string($options)) {
            $pairs = [];
            foreach (explode(',', $options) as $index => $entry) {
                if (trim($entry) === '') {
                    continue;
                }
                $parts = explode('=', $entry, 2);
                if (count($parts) !== 2 || trim($parts[0]) === '') {
                    throw new InvalidConfig(sprintf(
                        'dbsync config `%s` (env %s): entry %d is not name=value; separate entries with commas, '
                        . 'or set the array in config/dbsync.php for values that contain a comma',
                        self::KEY,
                        self::ENV,
                        $index + 1,
                    ));
                }
                $pairs[trim($parts[0])] = trim($parts[1]);
            }

            return $pairs;
        }
        if (!is_array($options)) {
            throw new InvalidConfig(sprintf('dbsync config `%s` must be an array or a name=value,... string', self::KEY));
        }
        $pairs = [];
        foreach ($options as $name => $value) {
            $pairs[(string) $name] = is_bool($value) ? ($value ? 'true' : 'false') : (string) $value;
        }

        return $pairs;
    }
}
