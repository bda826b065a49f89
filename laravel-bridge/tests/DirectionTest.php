<?php

/**
 * Direction: the values the extension expects and the consumer group suffixes.
 */

declare(strict_types=1);

namespace DbSync\Laravel\Tests;

use DbSync\Laravel\Direction;
use PHPUnit\Framework\TestCase;

final class DirectionTest extends TestCase
{
    public function testValuesAreTheCoreDirections(): void
    {
        self::assertSame(['legacy_to_revamp', 'revamp_to_legacy'], array_map(
            static fn (Direction $direction): string => $direction->value,
            Direction::cases(),
        ));
    }

    public function testGroupSuffixUsesDashes(): void
    {
        self::assertSame('legacy-to-revamp', Direction::LegacyToRevamp->groupSuffix());
        self::assertSame('revamp-to-legacy', Direction::RevampToLegacy->groupSuffix());
    }
}
