<?php

/**
 * consume:legacy-events: applies the legacy PostgreSQL changes (topic legacy.events) to the revamp database.
 */

declare(strict_types=1);

namespace DbSync\Laravel\Commands;

use DbSync\Laravel\Direction;

final class ConsumeLegacyEventsCommand extends ConsumeCommand
{
    protected const NAME = 'consume:legacy-events';

    protected $description = 'Apply legacy PostgreSQL changes from Kafka (legacy.events) to the revamp MariaDB database.';

    protected function direction(): Direction
    {
        return Direction::LegacyToRevamp;
    }
}
