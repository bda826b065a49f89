<?php

/**
 * Signals: the trap runs the handler on dispatch and puts the previous handlers back.
 *
 * @requires extension pcntl
 * @requires extension posix
 */

declare(strict_types=1);

namespace DbSync\Laravel\Tests;

use DbSync\Laravel\Signals;
use PHPUnit\Framework\TestCase;

final class SignalsTest extends TestCase
{
    public function testHandlerRunsOnDispatchAndPreviousHandlerComesBack(): void
    {
        $previous = static function (): void {
        };
        pcntl_signal(SIGUSR1, $previous);
        $wasAsync = pcntl_async_signals(false);
        $seen = [];

        $trap = Signals::trap([SIGUSR1], function (int $signal) use (&$seen): void {
            $seen[] = $signal;
        });
        self::assertTrue(pcntl_async_signals(), 'trap() turns async signals on');
        posix_kill(posix_getpid(), SIGUSR1);
        pcntl_signal_dispatch();
        $trap->restore();

        self::assertSame([SIGUSR1], $seen);
        self::assertSame($previous, pcntl_signal_get_handler(SIGUSR1));
        self::assertFalse(pcntl_async_signals(), 'restore() puts the async setting back');
        pcntl_async_signals($wasAsync);
        pcntl_signal(SIGUSR1, SIG_DFL);
    }
}
