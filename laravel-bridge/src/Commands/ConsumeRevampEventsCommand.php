<?php

/**
 * consume:revamp-events: applies the revamp MariaDB changes (topic revamp.events) to the legacy database.
 */

declare(strict_types=1);

namespace DbSync\Laravel\Commands;

use DbSync\Laravel\Direction;

final class ConsumeRevampEventsCommand extends ConsumeCommand
{
    protected const NAME = 'consume:revamp-events';

    protected $description = 'Apply revamp MariaDB changes from Kafka (revamp.events) to the legacy PostgreSQL database.';

    protected function direction(): Direction
    {
        return Direction::RevampToLegacy;
    }
}
