<?php

/**
 * Which way a consumer moves changes, with the names each direction uses (topic, target database, group suffix).
 */

declare(strict_types=1);

namespace DbSync\Laravel;

enum Direction: string
{
    /** legacy.events (PostgreSQL changes) into the revamp MariaDB database. */
    case LegacyToRevamp = 'legacy_to_revamp';

    /** revamp.events (MariaDB changes) into the legacy PostgreSQL database. */
    case RevampToLegacy = 'revamp_to_legacy';

    /** The consumer group suffix: "legacy-to-revamp" or "revamp-to-legacy". */
    public function groupSuffix(): string
    {
        return str_replace('_', '-', $this->value);
    }
}
