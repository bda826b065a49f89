<?php

/**
 * The line dbsync:replay-dlq prints when it returns, e.g.
 * `dbsync:replay-dlq: read=3 replayed=2 skipped=1 (reasons: malformed=1, parent_missing=2)`, and the reasons asked
 * for that no dead letter had (likely a typo). Scripts read the counts back from the line, so its shape is stable.
 */

declare(strict_types=1);

namespace DbSync\Laravel;

final class ReplaySummary
{
    /** @param array<string, mixed> $summary what DbSync\replayDeadLetters() returned */
    public static function line(string $command, array $summary): string
    {
        $reasons = [];
        foreach ((array) ($summary['reasons'] ?? []) as $reason => $count) {
            $reasons[] = "{$reason}=" . (int) $count;
        }

        return sprintf(
            '%s: read=%d replayed=%d skipped=%d (reasons: %s)%s',
            $command,
            (int) ($summary['read'] ?? 0),
            (int) ($summary['replayed'] ?? 0),
            (int) ($summary['skipped'] ?? 0),
            $reasons === [] ? 'none' : implode(', ', $reasons),
            ($summary['dry_run'] ?? false) ? ' [dry run: nothing sent, nothing committed]' : '',
        );
    }

    /**
     * @param list<string> $asked the --reason filter
     * @param array<string, mixed> $summary
     *
     * @return list<string> the reasons asked for that no dead letter read had
     */
    public static function unseenReasons(array $asked, array $summary): array
    {
        return array_values(array_diff($asked, array_keys((array) ($summary['reasons'] ?? []))));
    }
}
