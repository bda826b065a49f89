<?php

/**
 * composer.json claims only what the tests run on: the PHP minor version and the Laravel (illuminate/*) 8.83 line
 * that this test process actually has.
 */

declare(strict_types=1);

namespace DbSync\Laravel\Tests;

use Illuminate\Foundation\Application;
use PHPUnit\Framework\TestCase;

final class ComposerConstraintsTest extends TestCase
{
    /** @return array<string, string> */
    private static function required(): array
    {
        $composer = json_decode((string) file_get_contents(__DIR__ . '/../composer.json'), true, 16, JSON_THROW_ON_ERROR);

        return $composer['require'];
    }

    public function testThePhpConstraintIsTheMinorVersionTheTestsRunOn(): void
    {
        self::assertSame('~' . PHP_MAJOR_VERSION . '.' . PHP_MINOR_VERSION . '.0', self::required()['php']);
    }

    public function testTheIlluminateConstraintsAreTheLaravelLineTheTestsRunOn(): void
    {
        [$major, $minor] = explode('.', Application::VERSION);
        foreach (['illuminate/console', 'illuminate/contracts', 'illuminate/support'] as $package) {
            // ^8.83: 8.83 and later 8.x releases (Laravel 8's patch line), the line the tests run on.
            self::assertSame("^{$major}.{$minor}", self::required()[$package], $package);
        }
    }
}
