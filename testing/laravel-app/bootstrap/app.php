<?php

/**
 * Creates the application. The environment comes from the repository's stack.env (found relative to this app, so
 * the checkout can live anywhere); variables already set in the real environment win, as with any .env.
 */

declare(strict_types=1);

$app = new Illuminate\Foundation\Application(dirname(__DIR__));

$app->useEnvironmentPath(dirname(__DIR__, 3));
$app->loadEnvironmentFrom('stack.env');

$app->singleton(Illuminate\Contracts\Console\Kernel::class, Illuminate\Foundation\Console\Kernel::class);
$app->singleton(Illuminate\Contracts\Debug\ExceptionHandler::class, Illuminate\Foundation\Exceptions\Handler::class);

return $app;
