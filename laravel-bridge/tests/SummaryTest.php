<?php

/**
 * Summary::line: the stable shape scripts and tests read counters back from.
 */

declare(strict_types=1);

namespace DbSync\Laravel\Tests;

use DbSync\Laravel\Summary;
use PHPUnit\Framework\TestCase;

final class SummaryTest extends TestCase
{
    public function testLineListsTheCountersInOrderWithTheDuration(): void
    {
        $counters = [
            'consumed' => 10,
            'applied' => 8,
            'skipped_echo' => 1,
            'duplicates' => 0,
            'retried' => 0,
            'dead_lettered' => 1,
            'conflicts_lost' => 0,
            'per_entity' => ['user' => ['applied' => 8]],
        ];

        self::assertSame(
            'consume:legacy-events: consumed=10 applied=8 skipped_echo=1 duplicates=0 retried=0 dead_lettered=1 '
                . 'conflicts_lost=0 (3.2s)',
            Summary::line('consume:legacy-events', $counters, 3.21),
        );
    }

    public function testMissingCountersShowAsZero(): void
    {
        self::assertSame(
            'x: consumed=2 applied=0 skipped_echo=0 duplicates=0 retried=0 dead_lettered=0 conflicts_lost=0 (0.0s)',
            Summary::line('x', ['consumed' => 2], 0.0),
        );
    }
}
