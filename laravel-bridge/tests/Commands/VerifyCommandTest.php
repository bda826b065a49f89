<?php

/**
 * dbsync:verify's and dbsync:repair's names, options and how they print a report (the figures come from the
 * extension; both commands are tested end to end by testing/scripts/test-verify.sh and test-verify-live.sh).
 */

declare(strict_types=1);

namespace DbSync\Laravel\Tests\Commands;

use DbSync\Laravel\Commands\RepairCommand;
use DbSync\Laravel\Commands\VerifyCommand;
use PHPUnit\Framework\TestCase;

final class VerifyCommandTest extends TestCase
{
    public function testNamesOptionsAndOneSentenceDescriptions(): void
    {
        foreach ([new VerifyCommand(), new RepairCommand()] as $command) {
            self::assertMatchesRegularExpression('/^[A-Z].*\.$/', $command->getDescription());
            $definition = $command->getDefinition();
            foreach (['entity', 'chunk', 'since', 'min-key', 'max-key'] as $name) {
                self::assertTrue($definition->getOption($name)->acceptValue(), $name);
            }
            self::assertFalse($definition->getOption('json')->acceptValue());
        }
        self::assertSame('dbsync:verify', (new VerifyCommand())->getName());
        self::assertSame('dbsync:repair', (new RepairCommand())->getName());
        self::assertFalse((new RepairCommand())->getDefinition()->getOption('dry-run')->acceptValue());
        self::assertStringContainsString('1 drift found', (new VerifyCommand())->getHelp());
    }

    public function testHeadlineAndDifferenceLine(): void
    {
        self::assertSame(
            'dbsync:verify: DRIFT (exit 1): 1,000 rows compared in 0.5 s (2,000 rows/s, chunk 1000), 1 drifted',
            VerifyCommand::headline('dbsync:verify', ['in_sync' => false, 'exit_code' => 1, 'rows' => 1000,
                'elapsed_ms' => 500, 'rows_per_second' => 2000.0, 'chunk_size' => 1000,
                'entities' => [['entity' => 'user', 'drift' => 1]]]),
        );
        self::assertSame(
            'user 7: both; columns email -> email_address; legacy 2026-01-01T00:00:00Z (legacy), revamp -',
            VerifyCommand::differenceLine(['entity' => 'user', 'key' => 7, 'held_by' => 'both',
                'columns' => [['legacy' => 'email', 'revamp' => ['email_address']]],
                'legacy_version' => ['updated_at' => '2026-01-01T00:00:00Z', 'origin' => 'legacy']]),
        );
    }

    public function testRepairLines(): void
    {
        self::assertSame(
            'update revamp user 7 (version 2026-01-01T00:00:00Z from legacy): applied',
            RepairCommand::actionLine(['action' => 'update', 'side' => 'revamp', 'entity' => 'user', 'key' => 7,
                'version' => ['updated_at' => '2026-01-01T00:00:00Z', 'origin' => 'legacy'], 'outcome' => 'applied']),
        );
        self::assertSame('dbsync:repair: 2 repaired, 0 not applied (exit 0)',
            RepairCommand::summary('dbsync:repair', ['applied' => 2, 'not_applied' => 0, 'exit_code' => 0]));
        self::assertSame('dbsync:repair: dry run: 1 repair(s) planned, nothing written',
            RepairCommand::summary('dbsync:repair', ['dry_run' => true, 'actions' => [[]]]));
    }
}
