<?php

/**
 * The one line a consume command prints when it returns, e.g.
 * `consume:legacy-events: consumed=10 applied=8 skipped_echo=1 duplicates=0 retried=0 dead_lettered=1
 * conflicts_lost=0 (3.2s)`. Scripts and tests read the counters back from it, so its shape is stable.
 */

declare(strict_types=1);

namespace DbSync\Laravel;

final class Summary
{
    /** The counters shown, in order; a counter the extension did not report shows as 0. */
    public const FIELDS = [
        'consumed',
        'applied',
        'skipped_echo',
        'duplicates',
        'retried',
        'dead_lettered',
        'conflicts_lost',
    ];

    /** @param array<string, mixed> $counters what DbSync\Consumer::run() returned */
    public static function line(string $command, array $counters, float $seconds): string
    {
        $parts = array_map(
            static fn (string $field): string => $field . '=' . (int) ($counters[$field] ?? 0),
            self::FIELDS,
        );

        return sprintf('%s: %s (%.1fs)', $command, implode(' ', $parts), $seconds);
    }
}
