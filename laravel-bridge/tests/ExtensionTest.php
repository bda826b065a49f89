<?php

/**
 * Extension: the check every command makes first, and the message that says how to install the extension.
 */

declare(strict_types=1);

namespace DbSync\Laravel\Tests;

use DbSync\Laravel\Extension;
use PHPUnit\Framework\TestCase;

final class ExtensionTest extends TestCase
{
    public function testIsLoadedAsksPhp(): void
    {
        self::assertSame(extension_loaded('dbsync'), Extension::isLoaded());
    }

    public function testTheMissingMessageSaysHowToInstall(): void
    {
        self::assertStringContainsString('make ext', Extension::MISSING);
        self::assertStringContainsString('-d extension=', Extension::MISSING);
    }
}
