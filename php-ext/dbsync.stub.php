<?php

// Stubs for dbsync

namespace DbSync {
    /**
     * `DbSync\Consumer`. The `Arc` lets `run` hold the core consumer while a signal handler calls `stop` on it.
     */
    class Consumer {
        /**
         * Validates `$config` (the keys of dbsync-core's `SyncConfig`) and prepares the consumer.
         *
         * @throws \DbSync\Exception\ConfigException when a field is missing or invalid (the message names it)
         * @throws \DbSync\Exception\SyncException when the consumer cannot start
         *
         * @param array $config
         */
        public function __construct(array $config) {}

        /**
         * Consumes until `$maxEvents` messages, `$timeoutSeconds` of wall time, `$idleSeconds` without a message, or
         * `stop()`; returns the counters (`consumed`, `applied`, `skipped_echo`, ..., `per_entity`).
         *
         * @throws \DbSync\Exception\SyncException when consuming fails
         * The parameters are camelCase in Rust because ext-php-rs names PHP's parameters after them: named arguments
         * (`run(maxEvents: 10)`) use the documented names.
         *
         * @param int|null $maxEvents
         * @param float|null $timeoutSeconds
         * @param float|null $idleSeconds
         * @return mixed
         */
        public function run(?int $maxEvents = null, ?float $timeoutSeconds = null, ?float $idleSeconds = null): mixed {}

        /**
         * Asks a running `run()` to finish its batch, commit and return. Safe to call from a `pcntl` signal handler.
         *
         * @return void
         */
        public function stop(): void {}
    }

    /**
     * `DbSync\Supervisor`. The `Arc` lets `run` hold the core supervisor while a signal handler calls `stop` on it.
     */
    class Supervisor {
        /**
         * Validates `$options` (`connect_url`, `request_timeout_ms`, `min_backoff_ms`, `max_backoff_ms`; all optional)
         * and prepares the REST client. Contacts nothing yet.
         *
         * @throws \DbSync\Exception\ConfigException when an option is invalid (the message names it)
         *
         * @param array $options
         */
        public function __construct(array $options) {}

        /**
         * Reads every connector's state once and restarts what failed (when its backoff allows); returns
         * `['connectors' => [['name', 'state', 'tasks', 'action', 'cause', 'restart_error'], ...]]`.
         *
         * @throws \DbSync\Exception\SyncException when Kafka Connect cannot be reached or answers nonsense
         *
         * @return mixed
         */
        public function checkOnce(): mixed {}

        /**
         * What the supervisor did since it was created (the same array `run()` returns).
         *
         * @return mixed
         */
        public function counters(): mixed {}

        /**
         * Checks every `$intervalSeconds` until `stop()` or `$timeoutSeconds`; returns the counters (`checks`,
         * `unreachable`, `restarts`, `restart_errors`, `per_connector`). An unreachable Connect is logged and retried.
         *
         * @throws \ValueError when an interval or timeout is not a usable number of seconds
         * @throws \DbSync\Exception\ConfigException when the interval is shorter than 0.1 s
         *
         * @param float $intervalSeconds
         * @param float|null $timeoutSeconds
         * @return mixed
         */
        public function run(float $intervalSeconds, ?float $timeoutSeconds = null): mixed {}

        /**
         * Asks a running `run()` to return after its current check. Safe to call from a `pcntl` signal handler.
         *
         * @return void
         */
        public function stop(): void {}
    }

    /**
     * `DbSync\logToDirectory(string $directory): bool`: logs to a daily file `dbsync.YYYY-MM-DD.log` in `$directory`
     * (created if missing) besides stderr. Call it before the first `Consumer`; returns `false` when logging was already
     * set up (the earlier set-up is kept).
     *
     * @throws \DbSync\Exception\ConfigException when the directory cannot be created or written
     *
     * @param string $directory
     * @return bool
     */
    function logToDirectory(string $directory): bool {}

    /**
     * `DbSync\repair(array $options, ?callable $progress = null): array`: verifies as `DbSync\verify()` does, then writes
     * the version the conflict rules choose for each confirmed difference, as the sync service (`dry_run`: only plans).
     * Returns `dry_run`, `verify` (the verify report), `actions` (entity, key, action, side, version, outcome),
     * `applied`, `not_applied` and `exit_code`.
     *
     * @throws \DbSync\Exception\ConfigException when an option is missing or invalid (the message names it)
     * @throws \DbSync\Exception\SyncException when a database or Kafka cannot be read or written
     *
     * @param array $options
     * @param callable|null $progress
     * @return mixed
     */
    function repair(array $options, ?callable $progress = null): mixed {}

    /**
     * `DbSync\replayDeadLetters(array $options)`: replays the dead letters `$options` select (the keys of
     * dbsync-core's `ReplayOptions`: `brokers`, `dlq_topic`, `group_id`, `reasons`, `dry_run`, `max_messages`).
     *
     * @throws \DbSync\Exception\ConfigException when an option is missing or invalid (the message names it)
     * @throws \DbSync\Exception\SyncException when Kafka fails or a topic is missing
     *
     * @param array $options
     * @return mixed
     */
    function replayDeadLetters(array $options): mixed {}

    /**
     * `DbSync\status(array $options): array`: the sync's status as `dbsync:status` shows it (the keys of dbsync-core's
     * `StatusOptions`: `brokers`, `legacy_dsn`, `revamp_dsn`, `connect_url`, `max_lag`, `dlq_since`, ...). Returns
     * `health`, `exit_code`, `problems`, `warnings`, `directions`, `dead_letters`, `connectors`, `replication_slot` and
     * `clock_skew`; an unreachable service is part of the report (`exit_code` 2), not an exception.
     *
     * @throws \DbSync\Exception\ConfigException when an option is missing or invalid (the message names it)
     *
     * @param array $options
     * @return mixed
     */
    function status(array $options): mixed {}

    /**
     * `DbSync\verify(array $options, ?callable $progress = null): array`: compares both databases through the mapping
     * (the keys of dbsync-core's `VerifyOptions`: `legacy_dsn`, `revamp_dsn`, `mapping_path`, `entities`, `chunk_size`,
     * `since`, `min_key`, `max_key`, `brokers`, ...) and returns the report: `in_sync`, `exit_code` (0 in sync, 1 drift),
     * `rows`, `rows_per_second`, `entities`, `confirmation`, `differences`, `unsettled`. `$progress` receives an array
     * (`phase`, `entity`, `rows`, `total`, `rows_per_second`, `eta_seconds`, `suspects`) a few times a second.
     *
     * @throws \DbSync\Exception\ConfigException when an option is missing or invalid (the message names it)
     * @throws \DbSync\Exception\SyncException when a database or Kafka cannot be read
     *
     * @param array $options
     * @param callable|null $progress
     * @return mixed
     */
    function verify(array $options, ?callable $progress = null): mixed {}

    /**
     * `DbSync\version()`: the dbsync-core version the extension was built with.
     *
     * @return string
     */
    function version(): string {}
}

namespace DbSync\Exception {
    /**
     * `DbSync\Exception\ConfigException`: the configuration is unusable; the message names the field.
     */
    class ConfigException extends \DbSync\Exception\SyncException {
        public function __construct() {}
    }

    /**
     * `DbSync\Exception\SyncException`: any failure reported by dbsync-core.
     */
    class SyncException extends \Exception {
        public function __construct() {}
    }
}
