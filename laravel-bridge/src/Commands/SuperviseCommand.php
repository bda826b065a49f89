<?php

/**
 * dbsync:supervise: keeps the Debezium connectors capturing. Kafka Connect never restarts a FAILED connector or task
 * by itself, so after a database or broker outage capture could stay stopped; this checks every connector each
 * --interval seconds and restarts what failed, with backoff per connector. The work is DbSync\Supervisor's (the
 * extension); this maps config and options onto it, handles signals and prints the summary line.
 */

declare(strict_types=1);

namespace DbSync\Laravel\Commands;

use DbSync\Exception\SyncException;
use DbSync\Laravel\Config;
use DbSync\Laravel\ExitCode;
use DbSync\Laravel\Extension;
use DbSync\Laravel\Signals;
use DbSync\Supervisor;
use Illuminate\Console\Command;
use InvalidArgumentException;

final class SuperviseCommand extends Command
{
    /** The counters of the summary line, in order. */
    public const FIELDS = ['checks', 'restarts', 'restart_errors', 'unreachable'];

    protected $signature = 'dbsync:supervise'
        . ' {--interval=5 : Seconds between two checks of the connectors (0.1 or more)}'
        . ' {--once : Check once, restart what has failed, print each connector\'s state and exit}';

    protected $description = 'Restart failed Kafka Connect connectors and tasks (the Debezium side of the sync).';

    protected $help = <<<'HELP'
        Kafka Connect never restarts a FAILED connector or task by itself. This command reads every connector's
        state from Kafka Connect's REST API (config dbsync.connect.url, DBSYNC_CONNECT_URL, default
        http://127.0.0.1:8083) every --interval seconds and asks Connect to restart the failed parts
        (POST /connectors/<name>/restart?includeTasks=true&onlyFailed=true). Restarts of one connector are spaced
        by a backoff that doubles from 1 s up to 60 s and is forgotten once the connector has run for 60 s.
        Each restart is logged at error level (stderr, filter DBSYNC_LOG) with the connector and the first line
        of its trace. PAUSED and STOPPED connectors are left alone. An unreachable Connect is logged and retried.

        SIGINT/SIGTERM stop it; it then prints one line:
          dbsync:supervise: checks=N restarts=N restart_errors=N unreachable=N (T s)
        With --once it checks once, prints one line per connector and exits 1 if Connect cannot be read.
        Exit codes: 0 ok, 1 runtime failure, 2 invalid configuration or options.
        HELP;

    public function handle(Config $config): int
    {
        if (!Extension::isLoaded()) {
            $this->error(Extension::MISSING);

            return ExitCode::FAILURE;
        }
        try {
            $interval = $this->interval();
            Extension::logTo($config);
            $supervisor = new Supervisor($config->forSupervisor());
        } catch (InvalidArgumentException|SyncException $e) {
            return $this->fail($e);
        }

        $started = microtime(true);
        if ($this->option('once')) {
            try {
                $report = $supervisor->checkOnce();
            } catch (SyncException $e) {
                return $this->fail($e);
            }
            foreach ($report['connectors'] as $connector) {
                $this->line(self::connectorLine($connector));
            }
            $this->info(self::summaryLine((string) $this->getName(), $supervisor->counters(), microtime(true) - $started));

            return ExitCode::OK;
        }

        $signals = Signals::trap([SIGINT, SIGTERM], function (int $signal) use ($supervisor): void {
            $this->warn("{$this->getName()}: signal {$signal} received, stopping.");
            $supervisor->stop();
        });
        try {
            $counters = $supervisor->run(intervalSeconds: $interval);
        } catch (SyncException $e) {
            return $this->fail($e);
        } finally {
            $signals->restore();
        }
        $this->info(self::summaryLine((string) $this->getName(), $counters, microtime(true) - $started));

        return ExitCode::OK;
    }

    /**
     * The line printed on stop, e.g. `dbsync:supervise: checks=120 restarts=1 restart_errors=0 unreachable=0
     * (600.2s)`. Scripts read the counters back from it, so its shape is stable.
     *
     * @param array<string, mixed> $counters what DbSync\Supervisor::run() returned
     */
    public static function summaryLine(string $command, array $counters, float $seconds): string
    {
        $parts = array_map(
            static fn (string $field): string => $field . '=' . (int) ($counters[$field] ?? 0),
            self::FIELDS,
        );

        return sprintf('%s: %s (%.1fs)', $command, implode(' ', $parts), $seconds);
    }

    /**
     * One connector of a --once report, e.g. `dbsync-revamp: RUNNING, tasks FAILED: restarted (cause: ...)`.
     *
     * @param array<string, mixed> $connector an entry of DbSync\Supervisor::checkOnce()['connectors']
     */
    public static function connectorLine(array $connector): string
    {
        $tasks = (array) ($connector['tasks'] ?? []);
        $line = sprintf(
            '%s: %s, tasks %s: %s',
            (string) ($connector['name'] ?? '?'),
            (string) ($connector['state'] ?? '?'),
            $tasks === [] ? '(none)' : implode(',', array_map('strval', $tasks)),
            (string) ($connector['action'] ?? '?'),
        );
        foreach (['cause', 'restart_error'] as $key) {
            if (isset($connector[$key]) && $connector[$key] !== '') {
                $line .= " ({$key}: {$connector[$key]})";
            }
        }

        return $line;
    }

    private function interval(): float
    {
        $value = $this->option('interval');
        if (!is_numeric($value) || (float) $value < 0.1 || !is_finite((float) $value)) {
            throw new InvalidArgumentException('--interval must be a number of seconds of 0.1 or more.');
        }

        return (float) $value;
    }

    private function fail(\Throwable $e): int
    {
        $this->error("{$this->getName()}: {$e->getMessage()}");

        return ExitCode::for($e);
    }
}
