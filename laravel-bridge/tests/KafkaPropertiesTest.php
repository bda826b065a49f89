<?php

/**
 * KafkaProperties::parse and its place in Config: the env string and the array give the same map, the core gets it
 * as `kafka_properties` only when set, and a malformed entry is reported by name, never with its value.
 */

declare(strict_types=1);

namespace DbSync\Laravel\Tests;

use DbSync\Laravel\Config;
use DbSync\Laravel\Direction;
use DbSync\Laravel\Exceptions\InvalidConfig;
use DbSync\Laravel\KafkaProperties;
use PHPUnit\Framework\TestCase;

final class KafkaPropertiesTest extends TestCase
{
    private const BASE = [
        'databases' => ['revamp_dsn' => 'mysql://sync:pw@127.0.0.1:3306/revamp_db'],
        'mapping_path' => '/srv/dbsync/mapping.toml',
    ];

    public function testTheEnvStringAndTheArrayGiveTheSameMap(): void
    {
        $expected = ['security.protocol' => 'SASL_SSL', 'sasl.mechanism' => 'SCRAM-SHA-512', 'socket.keepalive.enable' => 'true'];
        self::assertSame(
            $expected,
            KafkaProperties::parse(' security.protocol=SASL_SSL, sasl.mechanism=SCRAM-SHA-512,,socket.keepalive.enable=true'),
        );
        self::assertSame(
            $expected,
            KafkaProperties::parse(['security.protocol' => 'SASL_SSL', 'sasl.mechanism' => 'SCRAM-SHA-512', 'socket.keepalive.enable' => true]),
        );
        self::assertSame([], KafkaProperties::parse(null));
        self::assertSame([], KafkaProperties::parse(' '));
        self::assertSame(['sasl.password' => 'a=b'], KafkaProperties::parse('sasl.password=a=b'));
    }

    public function testConfigPassesThemOnOnlyWhenSet(): void
    {
        $unset = Config::fromArray(self::BASE)->forDirection(Direction::LegacyToRevamp);
        self::assertArrayNotHasKey('kafka_properties', $unset);

        $set = Config::fromArray(self::BASE + ['kafka' => ['options' => 'security.protocol=SSL,ssl.ca.location=/ca.pem']]);
        $expected = ['security.protocol' => 'SSL', 'ssl.ca.location' => '/ca.pem'];
        self::assertSame($expected, $set->forDirection(Direction::LegacyToRevamp)['kafka_properties']);
        self::assertSame($expected, $set->forReplay()['kafka_properties']);
    }

    public function testAMalformedEntryNamesTheSettingButNotTheValue(): void
    {
        $config = Config::fromArray(self::BASE + ['kafka' => ['options' => 'security.protocol=SSL,hunter2']]);
        try {
            $config->forDirection(Direction::LegacyToRevamp);
            self::fail('expected InvalidConfig');
        } catch (InvalidConfig $e) {
            self::assertStringContainsString('kafka.options', $e->getMessage());
            self::assertStringContainsString('DBSYNC_KAFKA_PROPERTIES', $e->getMessage());
            self::assertStringContainsString('entry 2', $e->getMessage());
            self::assertStringNotContainsString('hunter2', $e->getMessage());
        }
    }
}
