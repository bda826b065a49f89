<?php

/**
 * dbsync:replay-dlq in the booted app: registered with its options, and failing clearly (non-zero exit, a message
 * that says what to fix) on a bad option, a missing dead-letter topic or a missing extension. It never reads the
 * stack's sync.dlq: the replay itself is tested against the broker in core/tests/replay.rs.
 */

declare(strict_types=1);

namespace Tests\Feature;

use Illuminate\Support\Facades\Artisan;
use Symfony\Component\Process\Process;
use Tests\TestCase;

final class ReplayDeadLettersCommandTest extends TestCase
{
    public function testTheCommandIsRegistered(): void
    {
        self::assertArrayHasKey('dbsync:replay-dlq', Artisan::all());
    }

    public function testHelpShowsTheOptions(): void
    {
        [$code, $output] = $this->runArtisan('help', ['command_name' => 'dbsync:replay-dlq']);

        self::assertSame(0, $code);
        foreach (['--reason', '--dry-run', '--max', 'multiple values allowed'] as $expected) {
            self::assertStringContainsString($expected, $output);
        }
    }

    public function testABadMaxFailsAndNamesTheOption(): void
    {
        [$code, $output] = $this->runArtisan('dbsync:replay-dlq', ['--max' => 'ten']);

        self::assertSame(2, $code, 'an invalid option: exit 2');
        self::assertStringContainsString('--max', $output);
    }

    public function testABadReasonFailsAndNamesTheOption(): void
    {
        [$code, $output] = $this->runArtisan('dbsync:replay-dlq', ['--reason' => ['parent missing']]);

        self::assertSame(2, $code, 'an invalid option: exit 2');
        self::assertStringContainsString('--reason', $output);
    }

    public function testAMissingDeadLetterTopicFailsAndNamesIt(): void
    {
        $topic = 'dbsync-test-no-such-dlq-' . bin2hex(random_bytes(4));
        config(['dbsync.kafka.topics.dlq' => $topic]);

        [$code, $output] = $this->runArtisan('dbsync:replay-dlq', ['--dry-run' => true, '--reason' => ['malformed']]);

        self::assertSame(1, $code);
        self::assertStringContainsString($topic, $output);
    }

    public function testTheExtensionFunctionNamesAMissingOption(): void
    {
        try {
            \DbSync\replayDeadLetters(['reasons' => [], 'dry_run' => true]);
            self::fail('replayDeadLetters() accepted options without brokers');
        } catch (\DbSync\Exception\ConfigException $e) {
            self::assertStringContainsString('brokers', $e->getMessage());
        }
    }

    public function testWithoutTheExtensionTheCommandSaysHowToInstallIt(): void
    {
        // As in ConsumeCommandsTest: a child PHP without the -d extension=... the tests run with.
        $probe = new Process([PHP_BINARY, '-r', 'echo extension_loaded("dbsync") ? "yes" : "no";']);
        if ($probe->mustRun()->getOutput() === 'yes') {
            self::markTestSkipped('dbsync is enabled in php.ini/conf.d; run through testing/scripts/test-php.sh');
        }
        $process = new Process([PHP_BINARY, 'artisan', 'dbsync:replay-dlq', '--dry-run'], base_path());
        $process->run();

        self::assertSame(1, $process->getExitCode(), $process->getErrorOutput());
        self::assertStringContainsString('make ext', $process->getOutput() . $process->getErrorOutput());
    }
}
