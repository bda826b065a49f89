<?php

/**
 * dbsync:status: whether the sync keeps up, as tables (or --json for machines). Every figure and the verdict come
 * from DbSync\status() (the extension; dbsync-core's status module): consumer-group lag per partition, the ledgers'
 * last applied event, end-to-end delay and applied rate, dead letters by reason, the connectors' states, the
 * replication slot's lag and the clock skew between the databases. This command maps config and options onto it and
 * prints the report. Exit code: the report's (0 healthy, 1 degraded, 2 unreachable); 2 also for invalid options.
 */

declare(strict_types=1);

namespace DbSync\Laravel\Commands;

use DbSync\Exception\SyncException;
use DbSync\Laravel\Config;
use DbSync\Laravel\Extension;
use Illuminate\Console\Command;
use InvalidArgumentException;

use function DbSync\status;

final class StatusCommand extends Command
{
    /** The exit code when the status could not be read at all (as for an unreachable service). */
    public const UNKNOWN = 2;

    protected $signature = 'dbsync:status'
        . ' {--json : Print the whole report as JSON}'
        . ' {--max-lag= : Consumer lag (messages per direction) above which the sync counts as degraded (default 1000)}'
        . ' {--dlq-since= : Count only dead letters written at or after this RFC 3339 time}'
        . ' {--timeout= : Seconds to wait for each answer from Kafka, a database or Kafka Connect (default 5)}';

    protected $description = 'Show consumer lag, delays, dead letters, connectors, slot lag and clock skew of the sync.';

    protected $help = <<<'HELP'
        Reads, without the consumer processes: each direction's consumer-group lag per partition (Kafka's committed
        offsets against the end offsets), the target ledger's last applied event, its end-to-end delay (source commit
        to target commit) and the events applied per second over the last minute; the dead letters that still need
        an operator (past the replay group's committed offset, or written since --dlq-since), by dbsync.reason; every
        Kafka Connect connector's and task's state; the PostgreSQL replication slot's lag in WAL bytes; and the clock
        skew between the two database servers (a warning above conflict_window_ms: last-writer-wins compares their
        clocks). The per-outcome counters (applied, echo-skipped, duplicates, retried, dead-lettered, parked) live in
        each running consumer: scrape its metrics endpoint (DBSYNC_METRICS_ADDR).

        Exit code: 0 healthy; 1 degraded (a direction's lag above --max-lag, a connector or task not RUNNING, dead
        letters waiting, the replication slot missing); 2 unreachable (Kafka, a database or Kafka Connect could not
        be read) or invalid options.
        HELP;

    public function handle(Config $config): int
    {
        if (!Extension::isLoaded()) {
            $this->error(Extension::MISSING);

            return self::UNKNOWN;
        }
        try {
            $report = status($config->forStatus() + $this->inputOptions());
        } catch (InvalidArgumentException|SyncException $e) {
            $this->error("{$this->getName()}: {$e->getMessage()}");

            // 1 means "degraded" here, so whatever stopped the status from being read exits 2.
            return self::UNKNOWN;
        }
        if ($this->option('json')) {
            $this->line(self::json($report));
        } else {
            $this->render($report);
        }

        return (int) ($report['exit_code'] ?? self::UNKNOWN);
    }

    /**
     * The options given on the command line, as the core's StatusOptions fields.
     *
     * @return array<string, int|string>
     *
     * @throws InvalidArgumentException when --max-lag or --timeout is not a usable number
     */
    private function inputOptions(): array
    {
        $options = [];
        $maxLag = $this->option('max-lag');
        if ($maxLag !== null) {
            if (!is_string($maxLag) || preg_match('/^\s*\d+\s*$/', $maxLag) !== 1) {
                throw new InvalidArgumentException('--max-lag must be a whole number of messages, 0 or more.');
            }
            $options['max_lag'] = (int) $maxLag;
        }
        $timeout = $this->option('timeout');
        if ($timeout !== null) {
            if (!is_numeric($timeout) || (float) $timeout < 0.1 || (float) $timeout > 60) {
                throw new InvalidArgumentException('--timeout must be a number of seconds from 0.1 to 60.');
            }
            $options['timeout_ms'] = (int) round((float) $timeout * 1000);
        }
        $since = $this->option('dlq-since');
        if (is_string($since) && trim($since) !== '') {
            $options['dlq_since'] = trim($since);
        }

        return $options;
    }

    /**
     * The report as pretty JSON; maps stay objects even when empty.
     *
     * @param array<string, mixed> $report what DbSync\status() returned
     */
    public static function json(array $report): string
    {
        if (isset($report['dead_letters']) && is_array($report['dead_letters'])
            && array_key_exists('by_reason', $report['dead_letters'])) {
            $report['dead_letters']['by_reason'] = (object) $report['dead_letters']['by_reason'];
        }

        return (string) json_encode($report, JSON_PRETTY_PRINT | JSON_UNESCAPED_SLASHES | JSON_PRESERVE_ZERO_FRACTION);
    }

    /** @param array<string, mixed> $report */
    private function render(array $report): void
    {
        $this->line(self::headline($report));
        $this->table(
            ['direction', 'lag', 'lag per partition', 'last applied', 'delay', 'events/s (1 min)'],
            array_map([self::class, 'directionRow'], (array) ($report['directions'] ?? [])),
        );
        $connectors = (array) ($report['connectors'] ?? []);
        if (($connectors['reachable'] ?? false) === true) {
            $this->table(
                ['connector', 'state', 'tasks'],
                array_map([self::class, 'connectorRow'], (array) ($connectors['connectors'] ?? [])),
            );
        } else {
            $this->line('connectors: unreachable: ' . (string) ($connectors['error'] ?? '?'));
        }
        $this->line(self::deadLetterLine((array) ($report['dead_letters'] ?? [])));
        $this->line(self::slotLine((array) ($report['replication_slot'] ?? [])));
        $this->line(self::clockLine((array) ($report['clock_skew'] ?? [])));
        foreach ((array) ($report['problems'] ?? []) as $problem) {
            $this->error("problem: {$problem}");
        }
        foreach ((array) ($report['warnings'] ?? []) as $warning) {
            $this->warn("warning: {$warning}");
        }
        $this->line('counters: ' . (string) ($report['consumer_counters'] ?? ''));
    }

    /** @param array<string, mixed> $report */
    public static function headline(array $report): string
    {
        return sprintf(
            'dbsync: %s (exit %d) at %s, lag threshold %d',
            strtoupper((string) ($report['health'] ?? '?')),
            (int) ($report['exit_code'] ?? 2),
            (string) ($report['checked_at'] ?? '?'),
            (int) ($report['max_lag'] ?? 0),
        );
    }

    /**
     * @param array<string, mixed> $direction an entry of the report's `directions`
     *
     * @return list<string>
     */
    public static function directionRow(array $direction): array
    {
        $lag = (array) ($direction['lag'] ?? []);
        $applied = (array) ($direction['applied'] ?? []);
        $partitions = array_map(
            static fn (array $p): string => "{$p['partition']}:{$p['lag']}",
            (array) ($lag['partitions'] ?? []),
        );
        $unreachable = static fn (array $probe): string => 'unreachable: ' . (string) ($probe['error'] ?? '?');

        return [
            (string) ($direction['direction'] ?? '?'),
            ($lag['reachable'] ?? false) === true ? (string) $lag['total'] : $unreachable($lag),
            implode(' ', $partitions),
            ($applied['reachable'] ?? false) === true
                ? self::age($applied['last_applied_age_ms'] ?? null) : $unreachable($applied),
            isset($applied['delay_ms']) ? "{$applied['delay_ms']} ms" : '-',
            isset($applied['events_per_second']) ? sprintf('%.1f', $applied['events_per_second']) : '-',
        ];
    }

    /**
     * @param array<string, mixed> $connector an entry of the report's `connectors.connectors`
     *
     * @return list<string>
     */
    public static function connectorRow(array $connector): array
    {
        $tasks = array_map(
            static fn (array $t): string => "{$t['id']}:{$t['state']}",
            (array) ($connector['tasks'] ?? []),
        );

        return [(string) ($connector['name'] ?? '?'), (string) ($connector['state'] ?? '?'), implode(' ', $tasks) ?: '(none)'];
    }

    /** @param array<string, mixed> $dlq the report's `dead_letters` */
    public static function deadLetterLine(array $dlq): string
    {
        if (($dlq['reachable'] ?? false) !== true) {
            return 'dead letters: unreachable: ' . (string) ($dlq['error'] ?? '?');
        }
        $reasons = [];
        foreach ((array) ($dlq['by_reason'] ?? []) as $reason => $count) {
            $reasons[] = "{$reason}={$count}";
        }
        $since = isset($dlq['since']) ? " written since {$dlq['since']}" : '';

        return sprintf(
            'dead letters in %s not replayed%s: %d%s',
            (string) ($dlq['topic'] ?? '?'),
            $since,
            (int) ($dlq['depth'] ?? 0),
            $reasons === [] ? '' : ' (' . implode(', ', $reasons) . (($dlq['reasons_complete'] ?? true) ? '' : ', ...') . ')',
        );
    }

    /** @param array<string, mixed> $slot the report's `replication_slot` */
    public static function slotLine(array $slot): string
    {
        if (($slot['reachable'] ?? false) !== true) {
            return 'replication slot: unreachable: ' . (string) ($slot['error'] ?? '?');
        }
        if (($slot['exists'] ?? false) !== true) {
            return "replication slot {$slot['slot']}: missing";
        }

        return sprintf(
            'replication slot %s: %s, %s bytes of WAL behind',
            (string) $slot['slot'],
            ($slot['active'] ?? false) ? 'active' : 'inactive',
            isset($slot['lag_bytes']) ? (string) $slot['lag_bytes'] : '?',
        );
    }

    /** @param array<string, mixed> $skew the report's `clock_skew` */
    public static function clockLine(array $skew): string
    {
        if (($skew['reachable'] ?? false) !== true) {
            return 'clock skew: unreachable: ' . (string) ($skew['error'] ?? '?');
        }

        return sprintf(
            'clock skew legacy - revamp: %d ms (+/- %d ms; conflict window %d ms)',
            (int) $skew['skew_ms'],
            (int) $skew['uncertainty_ms'],
            (int) $skew['conflict_window_ms'],
        );
    }

    private static function age(mixed $ms): string
    {
        if (!is_int($ms)) {
            return 'never';
        }

        return $ms < 1000 ? "{$ms} ms ago" : sprintf('%.1f s ago', $ms / 1000);
    }
}
