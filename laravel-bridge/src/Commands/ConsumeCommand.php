<?php

/**
 * What consume:legacy-events and consume:revamp-events share: queue:work's options (--stop-when-empty, --max-time,
 * --max-events), the extension check, signal handling, the summary line and the exit code (ExitCode: 2 for invalid
 * configuration, so a supervisor stops restarting). The work itself is DbSync\Consumer's (the extension).
 */

declare(strict_types=1);

namespace DbSync\Laravel\Commands;

use DbSync\Consumer;
use DbSync\Exception\SyncException;
use DbSync\Laravel\Config;
use DbSync\Laravel\Direction;
use DbSync\Laravel\ExitCode;
use DbSync\Laravel\Extension;
use DbSync\Laravel\Signals;
use DbSync\Laravel\Summary;
use Illuminate\Console\Command;
use InvalidArgumentException;

abstract class ConsumeCommand extends Command
{
    /** How long --stop-when-empty waits without a message before it calls the topic caught up. */
    public const EMPTY_IDLE_SECONDS = 2.0;

    /** The command name; each subclass sets it. */
    protected const NAME = '';

    public function __construct()
    {
        $this->signature = static::NAME
            . ' {--stop-when-empty : Stop once caught up (no message for ' . self::EMPTY_IDLE_SECONDS . ' s)}'
            . ' {--max-time= : Stop after this many seconds}'
            . ' {--max-events= : Stop after this many messages}';
        $this->help = 'Like queue:work: --stop-when-empty, --max-time and --max-events stop it; SIGINT/SIGTERM finish '
            . "the batch in flight, commit and print the summary line.\n"
            . 'Exit codes: 0 ok, 1 runtime failure (e.g. a database or the broker unreachable), 2 invalid '
            . 'configuration or options (restarting will not help).';
        parent::__construct();
    }

    /** The direction this command consumes. */
    abstract protected function direction(): Direction;

    public function handle(Config $config): int
    {
        if (!Extension::isLoaded()) {
            $this->error(Extension::MISSING);

            return ExitCode::FAILURE;
        }
        try {
            $maxEvents = $this->wholeNumberOption('max-events');
            $maxTime = $this->secondsOption('max-time');
            Extension::logTo($config);
            $consumer = new Consumer($config->forDirection($this->direction()));
        } catch (InvalidArgumentException|SyncException $e) {
            return $this->fail($e);
        }

        $started = microtime(true);
        $signals = Signals::trap([SIGINT, SIGTERM], function (int $signal) use ($consumer): void {
            $this->warn("{$this->getName()}: signal {$signal} received, finishing the current batch.");
            $consumer->stop();
        });
        try {
            $counters = $consumer->run(
                maxEvents: $maxEvents,
                timeoutSeconds: $maxTime,
                idleSeconds: $this->option('stop-when-empty') ? self::EMPTY_IDLE_SECONDS : null,
            );
        } catch (SyncException $e) {
            return $this->fail($e);
        } finally {
            $signals->restore();
        }
        // Close the consumer (it leaves its partitions, which it logs) first, so that the summary is the last line.
        unset($signals, $consumer);

        $this->info(Summary::line((string) $this->getName(), $counters, microtime(true) - $started));

        return ExitCode::OK;
    }

    private function fail(\Throwable $e): int
    {
        $this->error("{$this->getName()}: {$e->getMessage()}");

        return ExitCode::for($e);
    }

    private function wholeNumberOption(string $name): ?int
    {
        $value = $this->option($name);
        if ($value === null) {
            return null;
        }
        // Artisan::call() may pass an int; the command line always passes a string.
        $text = is_int($value) ? (string) $value : $value;
        if (!is_string($text) || preg_match('/^\d+$/', $text) !== 1) {
            throw new InvalidArgumentException("--{$name} must be a whole number of 0 or more.");
        }

        return (int) $text;
    }

    private function secondsOption(string $name): ?float
    {
        $value = $this->option($name);
        if ($value === null) {
            return null;
        }
        if (!is_numeric($value) || (float) $value < 0) {
            throw new InvalidArgumentException("--{$name} must be a number of seconds of 0 or more.");
        }

        return (float) $value;
    }
}
