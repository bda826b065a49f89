<?php

/**
 * dbsync:verify: proves the two databases agree, or lists the rows that drifted. The work is DbSync\verify()'s (the
 * extension; dbsync-core's verify module): both sides walked in key order by chunks, normalized through the mapping,
 * hashed, differing chunks narrowed to rows, each difference confirmed after the consumers caught up. This command
 * maps config and options onto it, draws a progress bar on a terminal and prints the report. Exit code: 0 in sync,
 * 1 drift found, 2 could not run (a database or Kafka unreachable, invalid options).
 */

declare(strict_types=1);

namespace DbSync\Laravel\Commands;

use DbSync\Exception\SyncException;
use DbSync\Laravel\Config;
use DbSync\Laravel\Extension;
use DbSync\Laravel\VerifyOptions;
use Illuminate\Console\Command;
use InvalidArgumentException;
use Symfony\Component\Console\Helper\ProgressBar;

use function DbSync\verify;

final class VerifyCommand extends Command
{
    /** The exit code when the comparison could not run. */
    public const CANNOT_RUN = 2;

    /** The shared filters of dbsync:verify and dbsync:repair. */
    public const FILTERS = ' {--entity=* : Only this entity of the mapping, e.g. user (repeatable)}'
        . ' {--chunk= : Rows read per side and per chunk (default 1000)}'
        . ' {--since= : Only rows updated at or after this time (RFC 3339, or e.g. "-1 hour")}'
        . ' {--min-key= : Only keys from this one}'
        . ' {--max-key= : Only keys up to this one}'
        . ' {--json : Print the whole report as JSON}';

    protected $signature = 'dbsync:verify' . self::FILTERS;

    protected $description = 'Compare both databases through the mapping and report rows that drifted.';

    protected $help = <<<'HELP'
        Walks each entity on both sides in key order by chunks (no table locks, short statements), normalizes every
        row through the mapping (the sync's own transform; time zones and precision normalized), compares chunk
        hashes and narrows differing chunks down to rows. A row that differs is looked at again after a delay and
        once both consumer groups have committed past the topics' end offsets of that moment; only a difference that
        is still there and unchanged is reported as drift: its key, which side(s) hold it, the differing columns and
        both versions. Rows still changing after every re-check are listed as unsettled (in flight), not as drift.

        Exit code: 0 in sync; 1 drift found; 2 could not run (a database or Kafka unreachable, invalid options).
        Repair with dbsync:repair.
        HELP;

    public function handle(Config $config): int
    {
        if (!Extension::isLoaded()) {
            $this->error(Extension::MISSING);

            return self::CANNOT_RUN;
        }
        $bar = null;
        try {
            $options = VerifyOptions::fromConfig($config) + self::filters($this);
            $bar = $this->option('json') ? null : self::progressBar($this);
            $report = verify($options, $bar === null ? null : static fn (array $p) => self::advance($bar, $p));
        } catch (InvalidArgumentException|SyncException $e) {
            $bar?->clear();
            $this->error("{$this->getName()}: {$e->getMessage()}");

            return self::CANNOT_RUN;
        }
        if ($bar !== null) {
            $bar->finish();
            $bar->clear();
        }
        if ($this->option('json')) {
            $this->line(self::json($report));
        } else {
            self::render($this, $report);
        }

        return (int) ($report['exit_code'] ?? self::CANNOT_RUN);
    }

    /**
     * The filter options of $command as the core's fields.
     *
     * @return array<string, mixed>
     */
    public static function filters(Command $command): array
    {
        return VerifyOptions::fromInput(
            $command->option('entity'),
            $command->option('chunk'),
            $command->option('since'),
            $command->option('min-key'),
            $command->option('max-key'),
        );
    }

    /** A progress bar on stderr, or null when the output is not a terminal. */
    public static function progressBar(Command $command): ?ProgressBar
    {
        if (!$command->getOutput()->isDecorated()) {
            return null;
        }
        $bar = $command->getOutput()->createProgressBar();
        $bar->setFormat(' %phase% %entity% %current%/%max% rows [%bar%] %percent:3s%% %rate% rows/s ETA %eta%');
        foreach (['phase' => 'comparing', 'entity' => '', 'rate' => '0', 'eta' => '?'] as $name => $value) {
            $bar->setMessage($value, $name);
        }
        $bar->minSecondsBetweenRedraws(0.1);

        return $bar;
    }

    /** @param array<string, mixed> $progress one progress figure from the core */
    public static function advance(ProgressBar $bar, array $progress): void
    {
        $bar->setMaxSteps(max(1, (int) ($progress['total'] ?? 0)));
        $bar->setMessage((string) ($progress['phase'] ?? ''), 'phase');
        $bar->setMessage((string) ($progress['entity'] ?? ''), 'entity');
        $bar->setMessage(number_format((float) ($progress['rows_per_second'] ?? 0)), 'rate');
        $bar->setMessage(self::duration($progress['eta_seconds'] ?? null), 'eta');
        $bar->setProgress((int) ($progress['rows'] ?? 0));
    }

    /** @param array<string, mixed> $report what DbSync\verify() returned */
    public static function json(array $report): string
    {
        return (string) json_encode($report, JSON_PRETTY_PRINT | JSON_UNESCAPED_SLASHES | JSON_PRESERVE_ZERO_FRACTION);
    }

    /** @param array<string, mixed> $report */
    public static function render(Command $command, array $report): void
    {
        $command->line(self::headline((string) $command->getName(), $report));
        $command->table(
            ['entity', 'rows', 'chunks', 'differing chunks', 'in flight or equal', 'drift', 'unsettled'],
            array_map(static fn (array $e): array => [
                (string) ($e['entity'] ?? '?'),
                number_format((int) ($e['rows'] ?? 0)),
                (string) ($e['chunks'] ?? 0),
                (string) ($e['chunks_differing'] ?? 0),
                (string) max(0, (int) ($e['suspects'] ?? 0) - (int) ($e['drift'] ?? 0) - (int) ($e['unsettled'] ?? 0)),
                (string) ($e['drift'] ?? 0),
                (string) ($e['unsettled'] ?? 0),
            ], (array) ($report['entities'] ?? [])),
        );
        $command->line(self::confirmationLine((array) ($report['confirmation'] ?? [])));
        foreach ((array) ($report['differences'] ?? []) as $difference) {
            $command->line('drift: ' . self::differenceLine((array) $difference));
        }
        foreach ((array) ($report['unsettled'] ?? []) as $row) {
            $command->warn("unsettled (still changing, not counted as drift): {$row['entity']} {$row['key']}");
        }
        if (($report['truncated'] ?? false) === true) {
            $command->warn('more rows differ than max_differences: only the first are listed and confirmed');
        }
    }

    /** @param array<string, mixed> $report */
    public static function headline(string $name, array $report): string
    {
        $drift = array_sum(array_map(static fn (array $e): int => (int) ($e['drift'] ?? 0), (array) ($report['entities'] ?? [])));

        return sprintf(
            '%s: %s (exit %d): %s rows compared in %.1f s (%s rows/s, chunk %d)%s, %d drifted',
            $name,
            ($report['in_sync'] ?? false) === true ? 'IN SYNC' : 'DRIFT',
            (int) ($report['exit_code'] ?? self::CANNOT_RUN),
            number_format((int) ($report['rows'] ?? 0)),
            ((int) ($report['elapsed_ms'] ?? 0)) / 1000,
            number_format((float) ($report['rows_per_second'] ?? 0)),
            (int) ($report['chunk_size'] ?? 0),
            isset($report['since']) ? ", rows updated since {$report['since']}" : '',
            $drift,
        );
    }

    /** @param array<string, mixed> $confirmation the report's `confirmation` */
    public static function confirmationLine(array $confirmation): string
    {
        $caught = $confirmation['consumers_caught_up'] ?? null;

        return sprintf(
            'confirmation: %d round(s), waited %.1f s, consumers %s, %d agreed on a later look (in flight)',
            (int) ($confirmation['rounds'] ?? 0),
            ((int) ($confirmation['waited_ms'] ?? 0)) / 1000,
            $caught === null ? 'not asked' : ($caught ? 'caught up' : 'did NOT catch up in time'),
            (int) ($confirmation['resolved_in_flight'] ?? 0),
        );
    }

    /** @param array<string, mixed> $difference an entry of the report's `differences` */
    public static function differenceLine(array $difference): string
    {
        $columns = array_map(
            static fn (array $c): string => $c['legacy'] . ' -> ' . implode('+', (array) $c['revamp']),
            (array) ($difference['columns'] ?? []),
        );
        $version = static fn (mixed $v): string => is_array($v) ? "{$v['updated_at']} ({$v['origin']})" : '-';
        $held = str_replace('_', ' ', (string) ($difference['held_by'] ?? '?'));
        $line = sprintf('%s %d: %s', (string) ($difference['entity'] ?? '?'), (int) ($difference['key'] ?? 0), $held);
        if ($columns !== []) {
            $line .= '; columns ' . implode(', ', $columns);
        }
        $line .= '; legacy ' . $version($difference['legacy_version'] ?? null)
            . ', revamp ' . $version($difference['revamp_version'] ?? null);
        if (isset($difference['tombstone'])) {
            $line .= '; tombstone on the other side ' . $version($difference['tombstone']);
        }

        return $line;
    }

    private static function duration(mixed $seconds): string
    {
        if (!is_int($seconds) && !is_float($seconds)) {
            return '?';
        }
        $seconds = (int) round($seconds);

        return $seconds < 60 ? "{$seconds}s" : sprintf('%dm%02ds', intdiv($seconds, 60), $seconds % 60);
    }
}
