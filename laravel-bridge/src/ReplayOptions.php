<?php

/**
 * dbsync:replay-dlq's options (--reason, --dry-run, --max) as the keys DbSync\replayDeadLetters() takes, refused
 * with a message naming the option when they cannot be used.
 */

declare(strict_types=1);

namespace DbSync\Laravel;

use InvalidArgumentException;

final class ReplayOptions
{
    /**
     * @param mixed $reasons --reason values: each may hold several reasons separated by commas
     * @param mixed $max --max: a whole number, or null for no cap
     *
     * @return array{reasons: list<string>, dry_run: bool, max_messages: int|null}
     *
     * @throws InvalidArgumentException when a reason is not a snake_case word or --max is not a whole number
     */
    public static function fromInput(mixed $reasons, bool $dryRun, mixed $max): array
    {
        return [
            'reasons' => self::reasons($reasons),
            'dry_run' => $dryRun,
            'max_messages' => self::max($max),
        ];
    }

    /** @return list<string> */
    private static function reasons(mixed $given): array
    {
        $reasons = [];
        foreach ((array) ($given ?? []) as $value) {
            foreach (explode(',', is_scalar($value) ? (string) $value : '') as $reason) {
                $reason = trim($reason);
                // Reasons are the snake_case words of the dbsync.reason header, e.g. parent_missing; which words
                // exist is dbsync-core's list (DeadLetterReason::ALL), checked by the extension.
                if (preg_match('/^[a-z][a-z0-9_]*$/', $reason) !== 1) {
                    throw new InvalidArgumentException('--reason must be a dead-letter reason such as '
                        . 'parent_missing or malformed, got ' . var_export($reason, true) . '.');
                }
                $reasons[$reason] = true;
            }
        }

        return array_keys($reasons);
    }

    private static function max(mixed $value): ?int
    {
        if ($value === null) {
            return null;
        }
        // Artisan::call() may pass an int; the command line always passes a string.
        $text = is_int($value) ? (string) $value : $value;
        if (!is_string($text) || preg_match('/^\d+$/', $text) !== 1) {
            throw new InvalidArgumentException('--max must be a whole number of 0 or more.');
        }

        return (int) $text;
    }
}
