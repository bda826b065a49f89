<?php

/**
 * The service provider: merges config, binds the typed Config once, publishes it under dbsync-config and registers the commands in the console.
 */

declare(strict_types=1);

namespace DbSync\Laravel\Tests;

use DbSync\Laravel\Config;
use DbSync\Laravel\DbSyncServiceProvider;
use Illuminate\Config\Repository;
use Illuminate\Console\Application as Artisan;
use Illuminate\Events\Dispatcher;
use Illuminate\Foundation\Application;
use Illuminate\Support\ServiceProvider;
use PHPUnit\Framework\TestCase;

final class DbSyncServiceProviderTest extends TestCase
{
    private Application $app;

    protected function setUp(): void
    {
        $this->app = new Application(sys_get_temp_dir());
        $this->app->instance('config', new Repository(['dbsync' => ['mapping_path' => '/app/mapping.toml']]));
        $provider = new DbSyncServiceProvider($this->app);
        $provider->register();
        $provider->boot();
    }

    protected function tearDown(): void
    {
        Artisan::forgetBootstrappers();
    }

    public function testRegisterMergesThePackageConfigUnderTheApps(): void
    {
        $config = $this->app['config']->get('dbsync');

        self::assertSame('/app/mapping.toml', $config['mapping_path']);
        self::assertArrayHasKey('topics', $config['kafka']);
        self::assertArrayHasKey('batch_size', $config['consumer']);
        self::assertArrayHasKey('parent_wait_ms', $config['consumer']);
    }

    public function testTheTypedConfigIsBoundOnce(): void
    {
        $config = $this->app->make(Config::class);

        self::assertSame($config, $this->app->make(Config::class));
        self::assertSame('/app/mapping.toml', $config->mappingPath);
    }

    public function testConfigIsPublishedUnderItsTag(): void
    {
        $paths = ServiceProvider::pathsToPublish(DbSyncServiceProvider::class, 'dbsync-config');

        self::assertCount(1, $paths);
        self::assertFileEquals(dirname(__DIR__) . '/config/dbsync.php', (string) array_key_first($paths));
        self::assertSame($this->app->configPath('dbsync.php'), reset($paths));
    }

    public function testCommandsAreRegisteredInTheConsole(): void
    {
        $artisan = new Artisan($this->app, new Dispatcher($this->app), 'test');

        self::assertTrue($artisan->has('consume:legacy-events'));
        self::assertTrue($artisan->has('consume:revamp-events'));
        self::assertTrue($artisan->has('dbsync:replay-dlq'));
        self::assertTrue($artisan->has('dbsync:supervise'));
        self::assertTrue($artisan->has('dbsync:verify'));
        self::assertTrue($artisan->has('dbsync:repair'));
    }
}
