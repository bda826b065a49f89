<?php

/**
 * ReplayOptions::fromInput: dbsync:replay-dlq's options as DbSync\replayDeadLetters() keys, and the messages for
 * options it cannot use.
 */

declare(strict_types=1);

namespace DbSync\Laravel\Tests;

use DbSync\Laravel\ReplayOptions;
use InvalidArgumentException;
use PHPUnit\Framework\TestCase;

final class ReplayOptionsTest extends TestCase
{
    public function testNoOptionsReplayEverything(): void
    {
        self::assertSame(
            ['reasons' => [], 'dry_run' => false, 'max_messages' => null],
            ReplayOptions::fromInput([], false, null),
        );
    }

    public function testReasonsRepeatSplitOnCommasAndDeduplicate(): void
    {
        $reasons = ['parent_missing', ' malformed , unmappable', 'parent_missing'];
        $options = ReplayOptions::fromInput($reasons, true, '25');

        self::assertSame(['parent_missing', 'malformed', 'unmappable'], $options['reasons']);
        self::assertTrue($options['dry_run']);
        self::assertSame(25, $options['max_messages']);
    }

    public function testMaxFromArtisanCallMayBeAnInt(): void
    {
        self::assertSame(0, ReplayOptions::fromInput(null, false, 0)['max_messages']);
    }

    /** @return array<string, array{mixed, mixed, string}> */
    public static function badInput(): array
    {
        return [
            'empty reason' => [[''], null, '--reason'],
            'trailing comma' => [['malformed,'], null, '--reason'],
            'not snake_case' => [['Parent-Missing'], null, '--reason'],
            'max as a word' => [[], 'ten', '--max'],
            'negative max' => [[], '-1', '--max'],
            'fractional max' => [[], '1.5', '--max'],
        ];
    }

    /** @dataProvider badInput */
    public function testUnusableInputNamesTheOption(mixed $reasons, mixed $max, string $option): void
    {
        $this->expectException(InvalidArgumentException::class);
        $this->expectExceptionMessage($option);

        ReplayOptions::fromInput($reasons, false, $max);
    }
}
