<?php

/**
 * consume:legacy-events against the real stack (`make up`): a known set of Debezium messages, produced with kcat to a
 * fresh topic, must come out as the right counters in the summary line. Group `integration`, excluded by default;
 * run with `testing/scripts/test-php.sh --group integration`.
 *
 * Each run uses its own topic, DLQ topic and consumer group (the broker auto-creates topics; a new group starts at
 * the earliest offset), fresh source positions (so the ledger cannot know the event ids) and ids from a random
 * block high in the legacy key range.
 */

declare(strict_types=1);

namespace Tests\Integration;

use Symfony\Component\Process\Process;
use Tests\TestCase;

/** @group integration */
final class ConsumeLegacyEventsTest extends TestCase
{
    public function testAKnownSetOfMessagesGivesTheExpectedCounters(): void
    {
        $run = bin2hex(random_bytes(4));
        $topic = "dbsync-it-legacy-{$run}";
        $messages = self::messages($run);
        self::produce($topic, $messages);
        config([
            'dbsync.kafka.topics.legacy' => $topic,
            'dbsync.kafka.topics.dlq' => "dbsync-it-dlq-{$run}",
            'dbsync.kafka.group_prefix' => "dbsync-it-{$run}",
            'dbsync.consumer.max_retries' => 1,
            'dbsync.consumer.retry_backoff_ms' => 10,
        ]);

        $code = $this->artisan('consume:legacy-events', ['--max-events' => count($messages), '--max-time' => 30]);
        $output = \Illuminate\Support\Facades\Artisan::output();

        self::assertSame(0, $code, $output);
        self::assertSame([
            'consumed' => 6,
            'applied' => 3,
            'skipped_echo' => 1,
            'duplicates' => 1,
            'dead_lettered' => 1,
        ], array_intersect_key(self::counters($output), array_flip(['consumed', 'applied', 'skipped_echo', 'duplicates', 'dead_lettered'])));
    }

    public function testStopWhenEmptyStopsOnceCaughtUp(): void
    {
        $run = bin2hex(random_bytes(4));
        $topic = "dbsync-it-empty-{$run}";
        $messages = self::messages($run);
        self::produce($topic, $messages);
        $this->privateTopic($topic, $run);

        $started = microtime(true);
        $code = $this->artisan('consume:legacy-events', ['--stop-when-empty' => true, '--max-time' => 60]);
        $output = \Illuminate\Support\Facades\Artisan::output();

        self::assertSame(0, $code, $output);
        self::assertSame(count($messages), self::counters($output)['consumed'], $output);
        self::assertLessThan(45, microtime(true) - $started, 'it stopped when caught up, not at --max-time');
    }

    public function testMaxTimeStopsAConsumerThatIsNotIdle(): void
    {
        $run = bin2hex(random_bytes(4));
        $topic = "dbsync-it-maxtime-{$run}";
        self::produce($topic, [[self::key(1), 'not JSON, dead-lettered']]);
        $this->privateTopic($topic, $run);

        $started = microtime(true);
        $code = $this->artisan('consume:legacy-events', ['--max-time' => 3]);
        $output = \Illuminate\Support\Facades\Artisan::output();

        self::assertSame(0, $code, $output);
        self::assertSame(1, self::counters($output)['consumed'], $output);
        $elapsed = microtime(true) - $started;
        self::assertGreaterThanOrEqual(3.0, $elapsed);
        self::assertLessThan(20.0, $elapsed);
    }

    /** Points the legacy consumer at a topic, DLQ topic and group of this run's own. */
    private function privateTopic(string $topic, string $run): void
    {
        config([
            'dbsync.kafka.topics.legacy' => $topic,
            'dbsync.kafka.topics.dlq' => "dbsync-it-dlq-{$run}",
            'dbsync.kafka.group_prefix' => "dbsync-it-{$run}",
            'dbsync.consumer.max_retries' => 1,
            'dbsync.consumer.retry_backoff_ms' => 10,
            'dbsync.consumer.instance_id' => "phpunit-{$run}",
        ]);
    }

    /**
     * The queues outlive one run(): a process that calls run(maxEvents: N) again and again over a stream applies
     * every event exactly once (nothing fetched by one run is lost to the next, nothing is applied twice).
     */
    public function testRepeatedRunsApplyEveryEventExactlyOnce(): void
    {
        $run = bin2hex(random_bytes(4));
        $topic = "dbsync-it-repeat-{$run}";
        $id = random_int(900_000_000, 990_000_000) * 1000;
        $lsn = (int) (microtime(true) * 1_000_000);
        $creates = array_map(
            static fn (int $n): array => [
                self::key($id + $n),
                self::event('c', self::user($run, $id + $n, "u{$n}", 'legacy', '2026-01-01T00:00:00.000000Z'), $lsn + $n),
            ],
            range(1, 40),
        );
        self::produce($topic, $creates);
        config([
            'dbsync.kafka.topics.legacy' => $topic,
            'dbsync.kafka.topics.dlq' => "dbsync-it-dlq-{$run}",
            'dbsync.kafka.group_prefix' => "dbsync-it-{$run}",
            'dbsync.consumer.batch_size' => 5,
        ]);
        $settings = \DbSync\Laravel\Config::fromArray((array) config('dbsync'), base_path())
            ->forDirection(\DbSync\Laravel\Direction::LegacyToRevamp);
        $consumer = new \DbSync\Consumer($settings);

        $totals = ['consumed' => 0, 'applied' => 0, 'duplicates' => 0, 'dead_lettered' => 0];
        $runs = 0;
        while ($totals['consumed'] < count($creates) && $runs < 40) {
            $counters = $consumer->run(maxEvents: 7, timeoutSeconds: 20.0, idleSeconds: 3.0);
            $runs++;
            foreach (array_keys($totals) as $name) {
                $totals[$name] += $counters[$name];
            }
        }

        self::assertGreaterThan(5, $runs, 'the stream took several runs');
        self::assertSame(
            ['consumed' => 40, 'applied' => 40, 'duplicates' => 0, 'dead_lettered' => 0],
            $totals,
            "after {$runs} runs",
        );
    }

    /**
     * Two creates and an update (applied), an echo written by the sync service (skipped), a redelivery of the
     * second create (duplicate) and a message that is not JSON (dead-lettered).
     *
     * @return list<array{string, string}> key and value of each message, in order
     */
    private static function messages(string $run): array
    {
        $id = random_int(900_000_000, 990_000_000) * 1000;
        $lsn = (int) (microtime(true) * 1_000_000);
        $user = static fn (int $id, string $name, string $source, string $at): array => self::user($run, $id, $name, $source, $at);
        $event = self::event(...);
        $key = self::key(...);

        $second = [$key($id + 2), $event('c', $user($id + 2, 'bob', 'legacy', '2026-01-01T00:00:00.000000Z'), $lsn + 2)];

        return [
            [$key($id + 1), $event('c', $user($id + 1, 'ann', 'legacy', '2026-01-01T00:00:00.000000Z'), $lsn + 1)],
            $second,
            [$key($id + 1), $event('u', $user($id + 1, 'ann', 'legacy', '2026-01-02T00:00:00.000000Z'), $lsn + 3)],
            [$key($id + 3), $event('c', $user($id + 3, 'echo', 'sync_service', '2026-01-01T00:00:00.000000Z'), $lsn + 4)],
            $second,
            [$key($id + 4), 'this is not JSON'],
        ];
    }

    /** @return array<string, mixed> a legacy_users row as Debezium's `after` image */
    private static function user(string $run, int $id, string $name, string $source, string $at): array
    {
        return [
            'id' => $id,
            'username' => "it-{$run}-{$name}",
            'email' => "{$name}.{$run}@example.test",
            'full_name' => ucfirst($name) . ' Tester',
            'status' => 'active',
            'is_admin' => false,
            'created_at' => '2026-01-01T00:00:00.000000Z',
            'updated_at' => $at,
            'source' => $source,
        ];
    }

    /** @param array<string, mixed> $after the PostgreSQL connector's envelope around a legacy_users row */
    private static function event(string $op, array $after, int $lsn): string
    {
        return json_encode([
            'before' => null,
            'after' => $after,
            'source' => [
                'version' => '3.6.1.Final',
                'connector' => 'postgresql',
                'name' => 'legacy',
                'ts_ms' => intdiv($lsn, 1000),
                'db' => 'legacy_db',
                'schema' => 'public',
                'table' => 'legacy_users',
                'txId' => 1000 + $lsn % 1000,
                'lsn' => $lsn,
            ],
            'op' => $op,
            'ts_ms' => intdiv($lsn, 1000),
        ], JSON_THROW_ON_ERROR);
    }

    private static function key(int $id): string
    {
        return json_encode(['id' => $id], JSON_THROW_ON_ERROR);
    }

    /** @param list<array{string, string}> $messages */
    private static function produce(string $topic, array $messages): void
    {
        $brokers = (string) config('dbsync.kafka.brokers');
        $lines = implode("\n", array_map(static fn (array $m): string => "{$m[0]}|{$m[1]}", $messages)) . "\n";
        $kcat = new Process(['kcat', '-P', '-b', $brokers, '-t', $topic, '-K', '|'], null, null, $lines, 30);
        $kcat->run();

        self::assertTrue($kcat->isSuccessful(), "kcat could not produce to {$brokers} (is the stack up? make up): "
            . $kcat->getErrorOutput());
    }

    /** @return array<string, int> the counters of the summary line */
    private static function counters(string $output): array
    {
        self::assertMatchesRegularExpression('/^consume:legacy-events: (.*) \([\d.]+s\)$/m', $output);
        preg_match_all('/(\w+)=(\d+)/', $output, $pairs, PREG_SET_ORDER);

        return array_map('intval', array_column($pairs, 2, 1));
    }
}
