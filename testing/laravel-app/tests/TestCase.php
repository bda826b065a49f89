<?php

/**
 * Base class for the app's tests: boots the thin app (bootstrap/app.php, environment from stack.env) and runs
 * artisan commands for real. Console output is not mocked (Mockery is not available offline): read it with
 * Artisan::output().
 */

declare(strict_types=1);

namespace Tests;

use Illuminate\Contracts\Console\Kernel;
use Illuminate\Foundation\Application;
use Illuminate\Foundation\Testing\TestCase as BaseTestCase;
use Illuminate\Support\Facades\Artisan;

abstract class TestCase extends BaseTestCase
{
    /** The repository root, found relative to this app. */
    protected const REPO = __DIR__ . '/../../..';

    public function createApplication(): Application
    {
        $app = require __DIR__ . '/../bootstrap/app.php';
        $app->make(Kernel::class)->bootstrap();

        return $app;
    }

    protected function setUp(): void
    {
        parent::setUp();
        $this->withoutMockingConsoleOutput();
    }

    /**
     * Runs an artisan command in this process.
     *
     * @param array<string, mixed> $parameters
     *
     * @return array{int, string} the exit code and what the command printed
     */
    protected function runArtisan(string $command, array $parameters = []): array
    {
        $code = $this->artisan($command, $parameters);

        return [(int) $code, Artisan::output()];
    }

    /** The extension's core config for legacy_to_revamp, as the app's config maps it; override keys per test. */
    protected function coreConfig(array $overrides = []): array
    {
        $config = \DbSync\Laravel\Config::fromArray(config('dbsync'), base_path())
            ->forDirection(\DbSync\Laravel\Direction::LegacyToRevamp);

        // A group and static membership id of the test process's own: joining the stack's real group would take
        // partitions from (or fence) the consumers the end-to-end suites run.
        $private = ['group_id' => 'dbsync-phpunit-' . getmypid(), 'instance_id' => 'phpunit-' . getmypid()];

        return array_merge($config, $private, $overrides);
    }
}
