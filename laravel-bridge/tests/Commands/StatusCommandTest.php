<?php

/**
 * dbsync:status's name, options and how it prints a report (the figures come from the extension; the command is
 * tested end to end by testing/scripts/test-status.sh).
 */

declare(strict_types=1);

namespace DbSync\Laravel\Tests\Commands;

use DbSync\Laravel\Commands\StatusCommand;
use PHPUnit\Framework\TestCase;

final class StatusCommandTest extends TestCase
{
    public function testNameOneSentenceDescriptionAndHelp(): void
    {
        $command = new StatusCommand();

        self::assertSame('dbsync:status', $command->getName());
        self::assertMatchesRegularExpression('/^[A-Z].*\.$/', $command->getDescription());
        self::assertStringNotContainsString('. ', $command->getDescription(), 'one sentence');
        foreach (['conflict_window_ms', 'DBSYNC_METRICS_ADDR', '2 unreachable', '--max-lag'] as $expected) {
            self::assertStringContainsString($expected, $command->getHelp());
        }
    }

    public function testOptions(): void
    {
        $definition = (new StatusCommand())->getDefinition();

        self::assertFalse($definition->getOption('json')->acceptValue());
        foreach (['max-lag', 'dlq-since', 'timeout'] as $name) {
            self::assertTrue($definition->getOption($name)->acceptValue(), $name);
            self::assertNull($definition->getOption($name)->getDefault(), "{$name}: the core's default applies");
        }
    }

    public function testADirectionRowShowsLagDelayAndRate(): void
    {
        self::assertSame(
            ['legacy_to_revamp', '1000', '0:334 1:333 2:333', '2.5 s ago', '420 ms', '16.7'],
            StatusCommand::directionRow([
                'direction' => 'legacy_to_revamp',
                'lag' => ['reachable' => true, 'total' => 1000, 'partitions' => [
                    ['partition' => 0, 'lag' => 334], ['partition' => 1, 'lag' => 333], ['partition' => 2, 'lag' => 333],
                ]],
                'applied' => ['reachable' => true, 'last_applied_age_ms' => 2500, 'delay_ms' => 420,
                    'events_per_second' => 16.6667],
            ]),
        );
    }

    public function testAnUnreachableSourceSaysWhy(): void
    {
        self::assertSame(
            'dead letters: unreachable: kafka: timed out',
            StatusCommand::deadLetterLine(['reachable' => false, 'error' => 'kafka: timed out']),
        );
        $row = StatusCommand::directionRow([
            'direction' => 'revamp_to_legacy',
            'lag' => ['reachable' => false, 'error' => 'no broker'],
            'applied' => ['reachable' => true, 'last_applied_age_ms' => null],
        ]);
        self::assertSame(['revamp_to_legacy', 'unreachable: no broker', '', 'never', '-', '-'], $row);
    }

    public function testDeadLettersSlotAndClockLines(): void
    {
        self::assertSame(
            'dead letters in sync.dlq not replayed: 3 (malformed=1, parent_missing=2)',
            StatusCommand::deadLetterLine(['reachable' => true, 'topic' => 'sync.dlq', 'depth' => 3,
                'by_reason' => ['malformed' => 1, 'parent_missing' => 2], 'reasons_complete' => true]),
        );
        self::assertSame(
            'replication slot dbsync_legacy: active, 56 bytes of WAL behind',
            StatusCommand::slotLine(['reachable' => true, 'slot' => 'dbsync_legacy', 'exists' => true,
                'active' => true, 'lag_bytes' => 56]),
        );
        self::assertSame(
            'clock skew legacy - revamp: -3 ms (+/- 1 ms; conflict window 1000 ms)',
            StatusCommand::clockLine(['reachable' => true, 'skew_ms' => -3, 'uncertainty_ms' => 1,
                'conflict_window_ms' => 1000]),
        );
    }

    public function testJsonKeepsAnEmptyReasonMapAnObject(): void
    {
        $json = StatusCommand::json(['exit_code' => 0, 'dead_letters' => ['depth' => 0, 'by_reason' => []]]);

        self::assertStringContainsString('"by_reason": {}', $json);
    }
}
