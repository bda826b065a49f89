<?php

/**
 * dbsync:repair: repairs the drift dbsync:verify finds. The work is DbSync\repair()'s (the extension; dbsync-core's
 * verify module): the same confirmed comparison, then for each difference the version the conflict rules choose is
 * written over the other copy (a row on one side only is created, or deleted where a newer tombstone says so),
 * through the sync's own writer: sync-service marker, row locks, ledger, so nothing echoes. This command maps config
 * and options onto it and prints every change. Exit code: 0 every repair applied (or planned, with --dry-run),
 * 1 some did not apply, 2 could not run.
 */

declare(strict_types=1);

namespace DbSync\Laravel\Commands;

use DbSync\Exception\SyncException;
use DbSync\Laravel\Config;
use DbSync\Laravel\Extension;
use DbSync\Laravel\VerifyOptions;
use Illuminate\Console\Command;
use InvalidArgumentException;

use function DbSync\repair;

final class RepairCommand extends Command
{
    protected $signature = 'dbsync:repair'
        . ' {--dry-run : Show what would be written; write nothing}'
        . VerifyCommand::FILTERS;

    protected $description = 'Repair the rows dbsync:verify reports, with the version the conflict rules choose.';

    public function handle(Config $config): int
    {
        if (!Extension::isLoaded()) {
            $this->error(Extension::MISSING);

            return VerifyCommand::CANNOT_RUN;
        }
        $bar = null;
        try {
            $options = VerifyOptions::fromConfig($config) + VerifyCommand::filters($this)
                + ['dry_run' => (bool) $this->option('dry-run')];
            $bar = $this->option('json') ? null : VerifyCommand::progressBar($this);
            $report = repair($options, $bar === null ? null : static fn (array $p) => VerifyCommand::advance($bar, $p));
        } catch (InvalidArgumentException|SyncException $e) {
            $bar?->clear();
            $this->error("{$this->getName()}: {$e->getMessage()}");

            return VerifyCommand::CANNOT_RUN;
        }
        if ($bar !== null) {
            $bar->finish();
            $bar->clear();
        }
        if ($this->option('json')) {
            $this->line(VerifyCommand::json($report));
        } else {
            $this->line(VerifyCommand::headline('dbsync:verify', (array) ($report['verify'] ?? [])));
            foreach ((array) ($report['actions'] ?? []) as $action) {
                $this->line(self::actionLine((array) $action));
            }
            $this->line(self::summary((string) $this->getName(), $report));
        }

        return (int) ($report['exit_code'] ?? VerifyCommand::CANNOT_RUN);
    }

    /** @param array<string, mixed> $action an entry of the report's `actions` */
    public static function actionLine(array $action): string
    {
        $version = (array) ($action['version'] ?? []);

        return sprintf(
            '%s %s %s %d (version %s from %s): %s',
            (string) ($action['action'] ?? '?'),
            (string) ($action['side'] ?? '?'),
            (string) ($action['entity'] ?? '?'),
            (int) ($action['key'] ?? 0),
            (string) ($version['updated_at'] ?? '?'),
            (string) ($version['origin'] ?? '?'),
            (string) ($action['outcome'] ?? '?'),
        );
    }

    /** @param array<string, mixed> $report what DbSync\repair() returned */
    public static function summary(string $name, array $report): string
    {
        if (($report['dry_run'] ?? false) === true) {
            return sprintf('%s: dry run: %d repair(s) planned, nothing written', $name, count((array) ($report['actions'] ?? [])));
        }

        return sprintf(
            '%s: %d repaired, %d not applied (exit %d)',
            $name,
            (int) ($report['applied'] ?? 0),
            (int) ($report['not_applied'] ?? 0),
            (int) ($report['exit_code'] ?? VerifyCommand::CANNOT_RUN),
        );
    }
}
