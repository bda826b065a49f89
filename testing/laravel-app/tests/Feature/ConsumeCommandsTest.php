<?php

/**
 * The consume:* commands in the booted app: registered, documented with queue:work's option names, and failing
 * clearly (a message that says what to fix; exit 2 for invalid configuration, 1 for a runtime failure).
 */

declare(strict_types=1);

namespace Tests\Feature;

use Illuminate\Support\Facades\Artisan;
use Symfony\Component\Process\Process;
use Tests\TestCase;

final class ConsumeCommandsTest extends TestCase
{
    public function testBothCommandsAreRegistered(): void
    {
        $commands = Artisan::all();

        self::assertArrayHasKey('consume:legacy-events', $commands);
        self::assertArrayHasKey('consume:revamp-events', $commands);
    }

    public function testHelpShowsTheOptions(): void
    {
        [$code, $output] = $this->runArtisan('help', ['command_name' => 'consume:legacy-events']);

        self::assertSame(0, $code);
        foreach (['--stop-when-empty', '--max-time', '--max-events', 'Exit codes'] as $expected) {
            self::assertStringContainsString($expected, $output);
        }
        self::assertStringNotContainsString('--once', $output);
        self::assertStringNotContainsString('--timeout', $output);
    }

    public function testEnvironmentComesFromTheRepositoryStackEnv(): void
    {
        self::assertSame('legacy.events', config('dbsync.kafka.topics.legacy'));
        self::assertStringStartsWith('mysql://', (string) config('dbsync.databases.revamp_dsn'));
        self::assertFileExists((string) config('dbsync.mapping_path'));
    }

    public function testAMissingTargetDatabaseFailsAndNamesTheVariable(): void
    {
        config(['dbsync.databases.revamp_dsn' => null]);

        [$code, $output] = $this->runArtisan('consume:legacy-events', ['--max-events' => 1]);

        self::assertSame(2, $code);
        self::assertStringContainsString('DBSYNC_REVAMP_DSN', $output);
    }

    public function testATargetOfTheWrongDatabaseFailsAndNamesTheField(): void
    {
        config(['dbsync.databases.legacy_dsn' => 'mysql://u:p@127.0.0.1/revamp_db']);

        [$code, $output] = $this->runArtisan('consume:revamp-events', ['--max-events' => 1]);

        self::assertSame(2, $code);
        self::assertStringContainsString('target_dsn', $output);
    }

    public function testAMissingMappingFileFailsAndNamesTheField(): void
    {
        config(['dbsync.mapping_path' => '/nonexistent/mapping.toml']);

        [$code, $output] = $this->runArtisan('consume:legacy-events', ['--stop-when-empty' => true]);

        self::assertSame(2, $code);
        self::assertStringContainsString('mapping_path', $output);
    }

    public function testABadOptionFails(): void
    {
        [$code, $output] = $this->runArtisan('consume:legacy-events', ['--max-events' => 'ten']);

        self::assertSame(2, $code);
        self::assertStringContainsString('--max-events', $output);
        [$code, $output] = $this->runArtisan('consume:legacy-events', ['--max-time' => '-1']);

        self::assertSame(2, $code);
        self::assertStringContainsString('--max-time', $output);
    }

    public function testANumberThatIsNotWholeExitsTwoAndNamesTheVariable(): void
    {
        config(['dbsync.consumer.batch_size' => '5OO']);

        [$code, $output] = $this->runArtisan('consume:legacy-events', ['--stop-when-empty' => true]);

        self::assertSame(2, $code);
        self::assertStringContainsString('DBSYNC_BATCH_SIZE', $output);
    }

    public function testAnUnreachableDatabaseIsARuntimeFailure(): void
    {
        // Nothing listens on port 1: a restart may help later, so exit 1, not 2.
        config(['dbsync.databases.revamp_dsn' => 'mysql://u:p@127.0.0.1:1/revamp_db']);

        [$code, $output] = $this->runArtisan('consume:legacy-events', ['--stop-when-empty' => true]);

        self::assertSame(1, $code, $output);
        self::assertStringContainsString('consume:legacy-events:', $output);
    }

    public function testWithoutTheExtensionTheCommandSaysHowToInstallIt(): void
    {
        // A child PHP without the -d extension=... the tests run with. test-php.sh hides a system-wide dbsync.ini
        // (PHP_INI_SCAN_DIR, inherited); elsewhere the child may still load it, and there is nothing to test.
        $probe = new Process([PHP_BINARY, '-r', 'echo extension_loaded("dbsync") ? "yes" : "no";']);
        if ($probe->mustRun()->getOutput() === 'yes') {
            self::markTestSkipped('dbsync is enabled in php.ini/conf.d; run through testing/scripts/test-php.sh');
        }
        $process = new Process([PHP_BINARY, 'artisan', 'consume:legacy-events'], base_path());
        $process->run();

        self::assertSame(1, $process->getExitCode(), $process->getErrorOutput());
        self::assertStringContainsString('make ext', $process->getOutput() . $process->getErrorOutput());
    }
}
