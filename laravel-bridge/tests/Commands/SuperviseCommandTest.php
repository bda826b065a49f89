<?php

/**
 * dbsync:supervise's name, options, description and output lines (its behaviour is tested through the thin app,
 * which has the extension loaded: testing/laravel-app/tests/Feature/SuperviseCommandTest.php, and end to end by
 * testing/scripts/test-outage.sh).
 */

declare(strict_types=1);

namespace DbSync\Laravel\Tests\Commands;

use DbSync\Laravel\Commands\SuperviseCommand;
use PHPUnit\Framework\TestCase;

final class SuperviseCommandTest extends TestCase
{
    public function testNameOneSentenceDescriptionAndHelp(): void
    {
        $command = new SuperviseCommand();

        self::assertSame('dbsync:supervise', $command->getName());
        self::assertMatchesRegularExpression('/^[A-Z].*\.$/', $command->getDescription());
        self::assertStringNotContainsString('. ', $command->getDescription(), 'one sentence');
        foreach (['DBSYNC_CONNECT_URL', 'onlyFailed=true', 'SIGTERM', 'PAUSED'] as $expected) {
            self::assertStringContainsString($expected, $command->getHelp());
        }
    }

    public function testOptions(): void
    {
        $definition = (new SuperviseCommand())->getDefinition();

        self::assertTrue($definition->getOption('interval')->acceptValue());
        self::assertSame('5', $definition->getOption('interval')->getDefault());
        self::assertFalse($definition->getOption('once')->acceptValue());
    }

    public function testTheSummaryLineHasEveryCounterInOrder(): void
    {
        self::assertSame(
            'dbsync:supervise: checks=12 restarts=2 restart_errors=0 unreachable=1 (60.0s)',
            SuperviseCommand::summaryLine(
                'dbsync:supervise',
                ['checks' => 12, 'restarts' => 2, 'unreachable' => 1, 'per_connector' => ['a' => 2]],
                60.04,
            ),
        );
    }

    public function testAConnectorLineShowsStatesActionAndCause(): void
    {
        self::assertSame(
            'dbsync-revamp: RUNNING, tasks FAILED: restarted (cause: java.io.IOException: gone)',
            SuperviseCommand::connectorLine([
                'name' => 'dbsync-revamp',
                'state' => 'RUNNING',
                'tasks' => ['FAILED'],
                'action' => 'restarted',
                'cause' => 'java.io.IOException: gone',
                'restart_error' => null,
            ]),
        );
        self::assertSame(
            'x: STOPPED, tasks (none): left',
            SuperviseCommand::connectorLine(['name' => 'x', 'state' => 'STOPPED', 'tasks' => [], 'action' => 'left']),
        );
    }
}
