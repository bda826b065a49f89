<?php

/**
 * ReplaySummary: the stable line dbsync:replay-dlq prints, and the filter reasons no dead letter had.
 */

declare(strict_types=1);

namespace DbSync\Laravel\Tests;

use DbSync\Laravel\ReplaySummary;
use PHPUnit\Framework\TestCase;

final class ReplaySummaryTest extends TestCase
{
    private const SUMMARY = [
        'read' => 3,
        'replayed' => 2,
        'skipped' => 1,
        'reasons' => ['malformed' => 1, 'parent_missing' => 2],
        'dry_run' => false,
    ];

    public function testLineListsTheCountsAndReasons(): void
    {
        self::assertSame(
            'dbsync:replay-dlq: read=3 replayed=2 skipped=1 (reasons: malformed=1, parent_missing=2)',
            ReplaySummary::line('dbsync:replay-dlq', self::SUMMARY),
        );
    }

    public function testAnEmptyTopicAndADryRunSaySo(): void
    {
        self::assertSame(
            'x: read=0 replayed=0 skipped=0 (reasons: none) [dry run: nothing sent, nothing committed]',
            ReplaySummary::line('x', ['reasons' => [], 'dry_run' => true]),
        );
    }

    public function testUnseenReasonsAreTheFilterReasonsNoLetterHad(): void
    {
        $asked = ['malformed', 'parent_mising'];

        self::assertSame(['parent_mising'], ReplaySummary::unseenReasons($asked, self::SUMMARY));
        self::assertSame([], ReplaySummary::unseenReasons([], self::SUMMARY));
    }
}
