<?php

/**
 * dbsync:supervise in the booted app: registered with its help, failing clearly on a bad --interval or an
 * unreachable Kafka Connect, and with --once reading the stack's connectors (it restarts nothing while they run).
 * Restarts themselves are tested end to end by testing/scripts/test-outage.sh.
 */

declare(strict_types=1);

namespace Tests\Feature;

use Illuminate\Support\Facades\Artisan;
use Tests\TestCase;

final class SuperviseCommandTest extends TestCase
{
    public function testTheCommandIsRegisteredWithItsHelp(): void
    {
        self::assertArrayHasKey('dbsync:supervise', Artisan::all());
        [$code, $output] = $this->runArtisan('help', ['command_name' => 'dbsync:supervise']);

        self::assertSame(0, $code);
        foreach (['--interval', '--once', 'DBSYNC_CONNECT_URL'] as $expected) {
            self::assertStringContainsString($expected, $output);
        }
    }

    public function testABadIntervalFailsAndNamesTheOption(): void
    {
        foreach (['soon', '0', '-1'] as $interval) {
            [$code, $output] = $this->runArtisan('dbsync:supervise', ['--interval' => $interval]);

            self::assertSame(2, $code, $interval); // invalid configuration
            self::assertStringContainsString('--interval', $output);
        }
    }

    public function testAnUnreachableConnectFailsOnceAndNamesIt(): void
    {
        // Port 9 (discard): nothing listens on loopback, so the connection is refused at once.
        config(['dbsync.connect.url' => 'http://127.0.0.1:9']);

        [$code, $output] = $this->runArtisan('dbsync:supervise', ['--once' => true]);

        self::assertSame(1, $code);
        self::assertStringContainsString('kafka connect at http://127.0.0.1:9', $output);
    }

    public function testABadUrlIsAConfigError(): void
    {
        config(['dbsync.connect.url' => '127.0.0.1:8083']);

        [$code, $output] = $this->runArtisan('dbsync:supervise', ['--once' => true]);

        self::assertSame(2, $code); // invalid configuration
        self::assertStringContainsString('connect_url', $output);
    }

    public function testOnceListsTheStacksConnectors(): void
    {
        [$code, $output] = $this->runArtisan('dbsync:supervise', ['--once' => true]);

        self::assertSame(0, $code, $output);
        self::assertMatchesRegularExpression('/^dbsync-legacy: [A-Z]+, tasks /m', $output);
        self::assertMatchesRegularExpression('/^dbsync-revamp: [A-Z]+, tasks /m', $output);
        self::assertMatchesRegularExpression('/^dbsync:supervise: checks=1 restarts=\d+ restart_errors=\d+ unreachable=0 /m', $output);
    }
}
