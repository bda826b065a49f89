<?php

/**
 * The extension's boundary (README, "No panic crosses an FFI boundary"): numeric config values outside their ranges
 * are refused with a ConfigException naming the field (before they could overflow a timer inside the core), and a
 * Rust panic reaches PHP as a SyncException with the panic's message instead of aborting the process.
 */

declare(strict_types=1);

namespace Tests\Feature;

use DbSync\Consumer;
use DbSync\Exception\ConfigException;
use DbSync\Exception\SyncException;
use Tests\TestCase;

final class BoundaryTest extends TestCase
{
    /** @return array<string, array{string, int}> */
    public static function outOfRange(): array
    {
        return [
            'retry backoff that overflowed Instant' => ['retry_backoff_ms', PHP_INT_MAX],
            'retry backoff of zero' => ['retry_backoff_ms', 0],
            'batch above 100,000' => ['batch_size', 100_001],
            'linger above a minute' => ['batch_linger_ms', 60_001],
            'no retries' => ['max_retries', 0],
            'retries beyond u32' => ['max_retries', PHP_INT_MAX],
            'parent wait beyond 7 days' => ['parent_wait_ms', 7 * 24 * 3_600_000 + 1],
            'ledger retention of zero hours' => ['ledger_retention_hours', 0],
            'ledger retention that overflowed seconds' => ['ledger_retention_hours', PHP_INT_MAX],
            'conflict window that overflowed dates' => ['conflict_window_ms', PHP_INT_MAX],
        ];
    }

    /** @dataProvider outOfRange */
    public function testOutOfRangeNumbersAreConfigExceptionsNamingTheField(string $field, int $value): void
    {
        try {
            new Consumer($this->coreConfig([$field => $value]));
            self::fail("{$field} = {$value} was accepted");
        } catch (ConfigException $e) {
            self::assertStringContainsString("`{$field}`", $e->getMessage());
        }
    }

    public function testTheRangeIsInTheMessage(): void
    {
        $this->expectException(ConfigException::class);
        $this->expectExceptionMessage('config field `retry_backoff_ms` is invalid: must be between 1 and 60000, got');
        new Consumer($this->coreConfig(['retry_backoff_ms' => PHP_INT_MAX]));
    }

    public function testAPanicIsASyncExceptionWithItsMessage(): void
    {
        if (!function_exists('DbSync\Testing\panic')) {
            self::markTestSkipped('DbSync\Testing\panic() exists in debug builds only (testing/scripts/test-php.sh)');
        }

        try {
            \DbSync\Testing\panic('boom at the boundary');
            self::fail('the panic did not reach PHP as an exception');
        } catch (SyncException $e) {
            self::assertStringContainsString('a Rust panic', $e->getMessage());
            self::assertStringContainsString('boom at the boundary', $e->getMessage());
        }
        // The process is still alive and the extension still answers.
        self::assertNotSame('', \DbSync\version());
    }
}
