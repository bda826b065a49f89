<?php

/**
 * Describes the package to Laravel: merges config/dbsync.php, binds the typed Config (read once, a singleton the
 * commands get injected), publishes the config (tag dbsync-config) and registers the consume:*, dbsync:replay-dlq,
 * dbsync:supervise, dbsync:status, dbsync:verify and dbsync:repair commands when running in the console. Nothing
 * else happens here.
 */

declare(strict_types=1);

namespace DbSync\Laravel;

use DbSync\Laravel\Commands\ConsumeLegacyEventsCommand;
use DbSync\Laravel\Commands\ConsumeRevampEventsCommand;
use DbSync\Laravel\Commands\RepairCommand;
use DbSync\Laravel\Commands\ReplayDeadLettersCommand;
use DbSync\Laravel\Commands\StatusCommand;
use DbSync\Laravel\Commands\SuperviseCommand;
use DbSync\Laravel\Commands\VerifyCommand;
use Illuminate\Contracts\Foundation\Application;
use Illuminate\Support\ServiceProvider;

final class DbSyncServiceProvider extends ServiceProvider
{
    private const CONFIG = __DIR__ . '/../config/dbsync.php';

    public function register(): void
    {
        $this->mergeConfigFrom(self::CONFIG, 'dbsync');
        $this->app->singleton(
            Config::class,
            static fn (Application $app): Config => Config::fromArray((array) $app['config']->get('dbsync', []), $app->basePath()),
        );
    }

    public function boot(): void
    {
        if (!$this->app->runningInConsole()) {
            return;
        }
        $this->publishes([self::CONFIG => $this->app->configPath('dbsync.php')], 'dbsync-config');
        $this->commands([
            ConsumeLegacyEventsCommand::class,
            ConsumeRevampEventsCommand::class,
            ReplayDeadLettersCommand::class,
            SuperviseCommand::class,
            StatusCommand::class,
            VerifyCommand::class,
            RepairCommand::class,
        ]);
    }
}
