<?php

/**
 * What consume:legacy-events and consume:revamp-events share: options, the extension check, config mapping,
 * signal handling, the summary line and the exit code. The work itself is DbSync\Consumer's (the extension).
 */

declare(strict_types=1);

namespace DbSync\Laravel\Commands;

use DbSync\Consumer;
use DbSync\Exception\SyncException;
use DbSync\Laravel\Config;
use DbSync\Laravel\Direction;
use DbSync\Laravel\Exceptions\InvalidConfig;
use DbSync\Laravel\Extension;
use DbSync\Laravel\Signals;
use DbSync\Laravel\Summary;
use Illuminate\Console\Command;
use Illuminate\Contracts\Config\Repository;
use InvalidArgumentException;

abstract class ConsumeCommand extends Command
{
    /** How long --once waits without a message before it calls the topic caught up. */
    public const ONCE_IDLE_SECONDS = 2.0;

    /** The command name; each subclass sets it. */
    protected const NAME = '';

    public function __construct()
    {
        $this->signature = static::NAME
            . ' {--max-events= : Stop after this many messages}'
            . ' {--timeout= : Stop after this many seconds}'
            . ' {--once : Stop once caught up (no message for ' . self::ONCE_IDLE_SECONDS . ' s)}';
        parent::__construct();
    }

    /** The direction this command consumes. */
    abstract protected function direction(): Direction;

    public function handle(Repository $config): int
    {
        if (!Extension::isLoaded()) {
            $this->error(Extension::MISSING);

            return self::FAILURE;
        }
        try {
            $maxEvents = $this->wholeNumberOption('max-events');
            $timeout = $this->secondsOption('timeout');
            $settings = Config::fromArray((array) $config->get('dbsync', []), $this->laravel->basePath())
                ->forDirection($this->direction());
            $consumer = new Consumer($settings);
        } catch (InvalidArgumentException|SyncException $e) {
            return $this->fail($e);
        }

        $started = microtime(true);
        $signals = Signals::trap([SIGINT, SIGTERM], function (int $signal) use ($consumer): void {
            $this->warn("{$this->getName()}: signal {$signal} received, finishing the current batch.");
            $consumer->stop();
        });
        try {
            $counters = $consumer->run($maxEvents, $timeout, $this->option('once') ? self::ONCE_IDLE_SECONDS : null);
        } catch (SyncException $e) {
            return $this->fail($e);
        } finally {
            $signals->restore();
        }
        // Close the consumer (it leaves its partitions, which it logs) first, so that the summary is the last line.
        unset($signals, $consumer);

        $this->info(Summary::line((string) $this->getName(), $counters, microtime(true) - $started));

        return self::SUCCESS;
    }

    private function fail(\Throwable $e): int
    {
        $this->error("{$this->getName()}: {$e->getMessage()}");

        return self::FAILURE;
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
