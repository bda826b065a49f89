<?php

/**
 * The consume:* commands' names, options and descriptions (their behaviour is tested through the thin app, which
 * has the extension loaded: testing/laravel-app/tests).
 */

declare(strict_types=1);

namespace DbSync\Laravel\Tests\Commands;

use DbSync\Laravel\Commands\ConsumeCommand;
use DbSync\Laravel\Commands\ConsumeLegacyEventsCommand;
use DbSync\Laravel\Commands\ConsumeRevampEventsCommand;
use PHPUnit\Framework\TestCase;

final class ConsumeCommandTest extends TestCase
{
    /** @return array<string, array{ConsumeCommand, string}> */
    public static function commands(): array
    {
        return [
            'legacy' => [new ConsumeLegacyEventsCommand(), 'consume:legacy-events'],
            'revamp' => [new ConsumeRevampEventsCommand(), 'consume:revamp-events'],
        ];
    }

    /** @dataProvider commands */
    public function testNameAndOneSentenceDescription(ConsumeCommand $command, string $name): void
    {
        self::assertSame($name, $command->getName());
        $description = $command->getDescription();
        self::assertMatchesRegularExpression('/^[A-Z].*\.$/', $description);
        self::assertStringNotContainsString('. ', $description, 'one sentence');
    }

    /** @dataProvider commands */
    public function testOptionsAreQueueWorksNames(ConsumeCommand $command): void
    {
        $definition = $command->getDefinition();

        self::assertFalse($definition->getOption('stop-when-empty')->acceptValue());
        self::assertStringContainsString('2 s', $definition->getOption('stop-when-empty')->getDescription());
        self::assertTrue($definition->getOption('max-time')->acceptValue());
        self::assertTrue($definition->getOption('max-events')->acceptValue());
        // Laravel's --once (one job) and --timeout (per job) mean something else: not offered.
        self::assertFalse($definition->hasOption('once'));
        self::assertFalse($definition->hasOption('timeout'));
    }

    /** @dataProvider commands */
    public function testHelpStatesTheExitCodes(ConsumeCommand $command): void
    {
        self::assertStringContainsString('2 invalid configuration', $command->getHelp());
    }
}
