<?php

/**
 * Traps SIGINT/SIGTERM for the duration of a run so they stop the consumer gracefully (finish the batch, commit,
 * print the summary) instead of killing PHP mid-batch. PHP owns the signals: the extension calls
 * pcntl_signal_dispatch() between polls, which runs the handler. Without pcntl this does nothing.
 */

declare(strict_types=1);

namespace DbSync\Laravel;

final class Signals
{
    /**
     * @param array<int, callable|int> $previous the handlers to put back, by signal number
     */
    private function __construct(private readonly array $previous, private readonly ?bool $wasAsync)
    {
    }

    /**
     * @param list<int> $signals e.g. [SIGINT, SIGTERM]
     * @param callable(int): void $handler receives the signal number
     */
    public static function trap(array $signals, callable $handler): self
    {
        if (!function_exists('pcntl_signal')) {
            return new self([], null);
        }
        $previous = [];
        foreach ($signals as $signal) {
            $previous[$signal] = pcntl_signal_get_handler($signal);
            pcntl_signal($signal, static function (int $signal) use ($handler): void {
                $handler($signal);
            });
        }

        return new self($previous, pcntl_async_signals(true));
    }

    /** Puts back the handlers (and the async-signals setting) that were there before trap(). */
    public function restore(): void
    {
        foreach ($this->previous as $signal => $handler) {
            pcntl_signal($signal, $handler);
        }
        if ($this->wasAsync !== null) {
            pcntl_async_signals($this->wasAsync);
        }
    }
}
