<?php

/**
 * dbsync:replay-dlq: sends dead letters back to the topic they came from once their cause is fixed (README, "How it
 * stays correct: Poison does not stop the line"). The work is DbSync\replayDeadLetters()'s (the extension); this maps
 * config and options onto it and prints the summary line. The extension checks --reason names against dbsync-core's
 * list of dead-letter reasons. Exit codes as ExitCode says: 2 for invalid configuration or options.
 */

declare(strict_types=1);

namespace DbSync\Laravel\Commands;

use DbSync\Exception\SyncException;
use DbSync\Laravel\Config;
use DbSync\Laravel\ExitCode;
use DbSync\Laravel\Extension;
use DbSync\Laravel\ReplayOptions;
use DbSync\Laravel\ReplaySummary;
use Illuminate\Console\Command;
use InvalidArgumentException;

use function DbSync\replayDeadLetters;

final class ReplayDeadLettersCommand extends Command
{
    protected $signature = 'dbsync:replay-dlq'
        . ' {--reason=* : Only dead letters with this dbsync.reason, e.g. parent_missing (repeatable)}'
        . ' {--dry-run : Count what would be replayed; send and commit nothing}'
        . ' {--max= : Stop after reading this many dead letters}';

    protected $description = 'Send dead letters from the dead-letter topic back to the topic they came from.';

    public function handle(Config $config): int
    {
        if (!Extension::isLoaded()) {
            $this->error(Extension::MISSING);

            return ExitCode::FAILURE;
        }
        try {
            $input = ReplayOptions::fromInput(
                $this->option('reason'),
                (bool) $this->option('dry-run'),
                $this->option('max'),
            );
            $summary = replayDeadLetters($config->forReplay() + $input);
        } catch (InvalidArgumentException|SyncException $e) {
            $this->error("{$this->getName()}: {$e->getMessage()}");

            return ExitCode::for($e);
        }

        foreach (ReplaySummary::unseenReasons($input['reasons'], $summary) as $reason) {
            $this->warn("{$this->getName()}: no dead letter read had reason `{$reason}`.");
        }
        $this->info(ReplaySummary::line((string) $this->getName(), $summary));

        return ExitCode::OK;
    }
}
