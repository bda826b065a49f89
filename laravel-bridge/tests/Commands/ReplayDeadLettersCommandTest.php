<?php

/**
 * dbsync:replay-dlq's name, options and description (its behaviour is tested through the thin app, which has the
 * extension loaded: testing/laravel-app/tests/Feature/ReplayDeadLettersCommandTest.php).
 */

declare(strict_types=1);

namespace DbSync\Laravel\Tests\Commands;

use DbSync\Laravel\Commands\ReplayDeadLettersCommand;
use PHPUnit\Framework\TestCase;

final class ReplayDeadLettersCommandTest extends TestCase
{
    public function testNameAndOneSentenceDescription(): void
    {
        $command = new ReplayDeadLettersCommand();

        self::assertSame('dbsync:replay-dlq', $command->getName());
        self::assertMatchesRegularExpression('/^[A-Z].*\.$/', $command->getDescription());
        self::assertStringNotContainsString('. ', $command->getDescription(), 'one sentence');
    }

    public function testOptions(): void
    {
        $definition = (new ReplayDeadLettersCommand())->getDefinition();

        self::assertTrue($definition->getOption('reason')->isArray(), '--reason is repeatable');
        self::assertFalse($definition->getOption('dry-run')->acceptValue());
        self::assertTrue($definition->getOption('max')->acceptValue());
        self::assertNull($definition->getOption('max')->getDefault(), 'no cap unless given');
        self::assertSame([], $definition->getOption('reason')->getDefault());
    }
}
