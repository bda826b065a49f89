<?php

/**
 * The dbsync extension as PHP sees it: loaded, the crate's version, config errors as exceptions naming the field,
 * counters as an array, and signal handlers that run while run() blocks.
 */

declare(strict_types=1);

namespace Tests\Feature;

use DbSync\Consumer;
use DbSync\Exception\ConfigException;
use DbSync\Exception\SyncException;
use Tests\TestCase;

final class ExtensionTest extends TestCase
{
    public function testExtensionIsLoaded(): void
    {
        self::assertTrue(
            extension_loaded('dbsync'),
            'dbsync is not loaded: run the tests with testing/scripts/test-php.sh (php -d extension=...).',
        );
    }

    public function testVersionIsTheCrateVersion(): void
    {
        self::assertSame(self::crateVersion(), \DbSync\version());
    }

    public function testConfigExceptionIsASyncException(): void
    {
        self::assertTrue(is_subclass_of(ConfigException::class, SyncException::class));
        self::assertTrue(is_subclass_of(SyncException::class, \Exception::class));
    }

    /** @return array<string, array{array<string, mixed>, list<string>, string}> */
    public static function badConfigs(): array
    {
        return [
            'missing brokers' => [[], ['brokers'], 'brokers'],
            'empty brokers' => [['brokers' => ' '], [], 'brokers'],
            'bad direction' => [['direction' => 'sideways'], [], 'direction'],
            'target_dsn of the wrong database' => [['target_dsn' => 'postgres://u:p@127.0.0.1/legacy_db'], [], 'target_dsn'],
            'missing mapping file' => [['mapping_path' => '/nonexistent/mapping.toml'], [], 'mapping_path'],
            'batch_size as text' => [['batch_size' => 'many'], [], 'batch_size'],
            'zero batch_size' => [['batch_size' => 0], [], 'batch_size'],
            'unknown key' => [['bach_size' => 5], [], 'bach_size'],
            'an object as a value' => [['brokers' => new \stdClass()], [], 'brokers'],
        ];
    }

    /**
     * @dataProvider badConfigs
     *
     * @param array<string, mixed> $overrides
     * @param list<string> $unset
     */
    public function testConfigErrorsNameTheField(array $overrides, array $unset, string $field): void
    {
        $config = array_diff_key($this->coreConfig($overrides), array_flip($unset));

        try {
            new Consumer($config);
            self::fail('no exception for a bad config');
        } catch (ConfigException $e) {
            self::assertStringContainsString("`{$field}`", $e->getMessage());
        }
    }

    public function testRunReturnsTheCountersAsAnArray(): void
    {
        $counters = (new Consumer($this->coreConfig()))->run(0, 0.5, 0.5);

        foreach (['consumed', 'applied', 'skipped_echo', 'duplicates', 'retried', 'dead_lettered'] as $key) {
            self::assertIsInt($counters[$key] ?? null, "counter {$key}");
        }
        self::assertIsArray($counters['per_entity']);
    }

    public function testRunRefusesNegativeLimits(): void
    {
        $this->expectException(\ValueError::class);
        (new Consumer($this->coreConfig()))->run(null, -1.0);
    }

    /** @requires extension posix */
    public function testPendingSignalHandlersRunDuringRun(): void
    {
        $consumer = new Consumer($this->coreConfig());
        $wasAsync = pcntl_async_signals(false);
        $handled = false;
        pcntl_signal(SIGUSR1, function () use (&$handled, $consumer): void {
            $handled = true;
            $consumer->stop();
        });
        try {
            posix_kill(posix_getpid(), SIGUSR1);
            // With async signals off, only the extension's pcntl_signal_dispatch() tick can run the handler.
            $consumer->run(null, 5.0, 5.0);
            self::assertTrue($handled, 'the SIGUSR1 handler did not run inside run()');
        } finally {
            pcntl_signal(SIGUSR1, SIG_DFL);
            pcntl_async_signals($wasAsync);
        }
    }

    public function testAnExceptionFromASignalHandlerReachesTheCaller(): void
    {
        $consumer = new Consumer($this->coreConfig());
        $wasAsync = pcntl_async_signals(false);
        pcntl_signal(SIGUSR1, static function (): void {
            throw new \RuntimeException('from the handler');
        });
        try {
            posix_kill(posix_getpid(), SIGUSR1);
            $this->expectExceptionMessage('from the handler');
            $consumer->run(null, 5.0, 5.0);
        } finally {
            pcntl_signal(SIGUSR1, SIG_DFL);
            pcntl_async_signals($wasAsync);
        }
    }

    /** dbsync-core's version: its own `version`, or the workspace's when it inherits it. */
    private static function crateVersion(): string
    {
        $core = (string) file_get_contents(self::REPO . '/core/Cargo.toml');
        if (preg_match('/^version\s*=\s*"([^"]+)"/m', $core, $match) === 1) {
            return $match[1];
        }
        $workspace = (string) file_get_contents(self::REPO . '/Cargo.toml');
        preg_match('/\[workspace\.package\][^\[]*?^version\s*=\s*"([^"]+)"/ms', $workspace, $match);

        return $match[1] ?? 'unknown';
    }
}
