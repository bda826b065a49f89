-- Revamp side (MySQL 8 / MariaDB 10.11): users, posts and likes as the revamped application knows them.
--
-- Conventions that dbsync relies on (see README "Schemas"):
--   * keys: revamp rows take ids from 1,000,000,000,000 up (AUTO_INCREMENT below); smaller ids belong to rows
--     created on the legacy side and are written here with their own id. One id on both sides, no id map.
--   * `source` is stamped by a trigger: 'sync_service' on a connection that ran SET @dbsync_origin = 'sync_service',
--     else 'revamp'. Applications never need to name it.
--   * `updated_at` (UTC) is bumped by the same trigger for application writes only, with the time the row was
--     written (a per-row clock, not the statement's start).
--   * times are UTC DATETIME(6); the server runs with time_zone '+00:00'.
--   * deletes are recorded as tombstones (dbsync_tombstones, by trigger), which is how they reach the other side.
-- Idempotent: safe to run on a database that already has it. Trigger bodies are single statements, so the file
-- needs no DELIMITER and runs the same through the mysql client and the docker entrypoint.

CREATE TABLE IF NOT EXISTS revamp_users (
    id            BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
    user_name     VARCHAR(191) NOT NULL,
    email_address VARCHAR(255) NOT NULL,
    first_name    VARCHAR(255) NULL,
    last_name     VARCHAR(255) NULL,
    status        TINYINT      NOT NULL DEFAULT 1 COMMENT '0 inactive, 1 active, 2 banned',
    is_admin      TINYINT(1)   NOT NULL DEFAULT 0,
    created_at    DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    updated_at    DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    source        VARCHAR(16)  NOT NULL DEFAULT 'revamp',
    UNIQUE KEY revamp_users_user_name_uq (user_name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 AUTO_INCREMENT=1000000000000;

CREATE TABLE IF NOT EXISTS revamp_posts (
    id          BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
    user_id     BIGINT       NOT NULL,
    headline    VARCHAR(255) NOT NULL,
    content     TEXT         NOT NULL,
    status      ENUM('DRAFT', 'LIVE', 'ARCHIVED') NOT NULL DEFAULT 'DRAFT',
    created_at  DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    updated_at  DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    source      VARCHAR(16)  NOT NULL DEFAULT 'revamp',
    KEY revamp_posts_user_id_idx (user_id),
    CONSTRAINT revamp_posts_user_fk FOREIGN KEY (user_id) REFERENCES revamp_users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 AUTO_INCREMENT=1000000000000;

CREATE TABLE IF NOT EXISTS revamp_post_likes (
    id          BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
    post_id     BIGINT       NOT NULL,
    user_id     BIGINT       NOT NULL,
    liked_at    DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    updated_at  DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    source      VARCHAR(16)  NOT NULL DEFAULT 'revamp',
    UNIQUE KEY revamp_post_likes_uq (post_id, user_id),
    KEY revamp_post_likes_user_id_idx (user_id),
    CONSTRAINT revamp_post_likes_post_fk FOREIGN KEY (post_id) REFERENCES revamp_posts (id) ON DELETE CASCADE,
    CONSTRAINT revamp_post_likes_user_fk FOREIGN KEY (user_id) REFERENCES revamp_users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 AUTO_INCREMENT=1000000000000;

-- The sync service's connections run SET @dbsync_origin = 'sync_service'; anything else is the application.
-- Row clock: NOW() and UTC_TIMESTAMP() are the statement's start, also in triggers, so a long statement that reaches a
-- row after another session changed and committed it would stamp an older time than that change (and lose to it
-- under last-writer-wins). SYSDATE() is read per call, after the row lock, but in the session's time_zone. So the
-- stamp is the statement's start in UTC plus the time elapsed since (both read in the session's zone, so the zone
-- cancels out; only a DST change inside one statement under a named zone would skew it). Needs the server's
-- default --sysdate-is-now=OFF. The same clock stamps tombstones' deleted_at below.
DROP TRIGGER IF EXISTS revamp_users_stamp_insert;
CREATE TRIGGER revamp_users_stamp_insert BEFORE INSERT ON revamp_users FOR EACH ROW
    SET NEW.source = IFNULL(@dbsync_origin, 'revamp'),
        NEW.updated_at = IF(IFNULL(@dbsync_origin, 'revamp') = 'sync_service', NEW.updated_at,
            UTC_TIMESTAMP(6) + INTERVAL TIMESTAMPDIFF(MICROSECOND, NOW(6), SYSDATE(6)) MICROSECOND);
DROP TRIGGER IF EXISTS revamp_users_stamp_update;
CREATE TRIGGER revamp_users_stamp_update BEFORE UPDATE ON revamp_users FOR EACH ROW
    SET NEW.source = IFNULL(@dbsync_origin, 'revamp'),
        NEW.updated_at = IF(IFNULL(@dbsync_origin, 'revamp') = 'sync_service', NEW.updated_at,
            UTC_TIMESTAMP(6) + INTERVAL TIMESTAMPDIFF(MICROSECOND, NOW(6), SYSDATE(6)) MICROSECOND);
DROP TRIGGER IF EXISTS revamp_posts_stamp_insert;
CREATE TRIGGER revamp_posts_stamp_insert BEFORE INSERT ON revamp_posts FOR EACH ROW
    SET NEW.source = IFNULL(@dbsync_origin, 'revamp'),
        NEW.updated_at = IF(IFNULL(@dbsync_origin, 'revamp') = 'sync_service', NEW.updated_at,
            UTC_TIMESTAMP(6) + INTERVAL TIMESTAMPDIFF(MICROSECOND, NOW(6), SYSDATE(6)) MICROSECOND);
DROP TRIGGER IF EXISTS revamp_posts_stamp_update;
CREATE TRIGGER revamp_posts_stamp_update BEFORE UPDATE ON revamp_posts FOR EACH ROW
    SET NEW.source = IFNULL(@dbsync_origin, 'revamp'),
        NEW.updated_at = IF(IFNULL(@dbsync_origin, 'revamp') = 'sync_service', NEW.updated_at,
            UTC_TIMESTAMP(6) + INTERVAL TIMESTAMPDIFF(MICROSECOND, NOW(6), SYSDATE(6)) MICROSECOND);
DROP TRIGGER IF EXISTS revamp_post_likes_stamp_insert;
CREATE TRIGGER revamp_post_likes_stamp_insert BEFORE INSERT ON revamp_post_likes FOR EACH ROW
    SET NEW.source = IFNULL(@dbsync_origin, 'revamp'),
        NEW.updated_at = IF(IFNULL(@dbsync_origin, 'revamp') = 'sync_service', NEW.updated_at,
            UTC_TIMESTAMP(6) + INTERVAL TIMESTAMPDIFF(MICROSECOND, NOW(6), SYSDATE(6)) MICROSECOND);
DROP TRIGGER IF EXISTS revamp_post_likes_stamp_update;
CREATE TRIGGER revamp_post_likes_stamp_update BEFORE UPDATE ON revamp_post_likes FOR EACH ROW
    SET NEW.source = IFNULL(@dbsync_origin, 'revamp'),
        NEW.updated_at = IF(IFNULL(@dbsync_origin, 'revamp') = 'sync_service', NEW.updated_at,
            UTC_TIMESTAMP(6) + INTERVAL TIMESTAMPDIFF(MICROSECOND, NOW(6), SYSDATE(6)) MICROSECOND);

-- Ledger of applied event ids, written in the same transaction as the row change, so a replay applies nothing.
-- source_committed_at: when the change committed on the source (UTC), for dbsync:status's end-to-end delay; it
-- leads the key, so new rows land at the end of the index instead of at random pages (an event's id is a hash) and
-- a ledger larger than the buffer pool is not read back from disk to insert into. Both parts come from the message,
-- so a redelivery has the same key. MariaDB adds the column to an older ledger through the executable comment below
-- (MySQL 8 ignores /*M! */ and lacks ADD COLUMN IF NOT EXISTS: on MySQL, an older ledger needs
-- `ALTER TABLE dbsync_applied_events ADD COLUMN source_committed_at DATETIME(6) NULL` once); migration 0004 then
-- moves an older ledger to this key.
CREATE TABLE IF NOT EXISTS dbsync_applied_events (
    event_id    CHAR(36)     NOT NULL,
    applied_at  DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    source_committed_at DATETIME(6) NOT NULL,
    PRIMARY KEY (source_committed_at, event_id),
    KEY dbsync_applied_events_applied_at_idx (applied_at)
) ENGINE=InnoDB;
/*M! ALTER TABLE dbsync_applied_events ADD COLUMN IF NOT EXISTS source_committed_at DATETIME(6) NULL */;

-- Deletes travel as tombstones (see databases/postgres/schema.sql for why): AFTER DELETE on every synced table
-- records who deleted and the deleted row's version.
CREATE TABLE IF NOT EXISTS dbsync_tombstones (
    table_name      VARCHAR(64)  NOT NULL,
    row_id          BIGINT       NOT NULL,
    row_updated_at  DATETIME(6)  NOT NULL,
    row_source      VARCHAR(16)  NOT NULL,
    deleted_at      DATETIME(6)  NOT NULL,
    source          VARCHAR(16)  NOT NULL DEFAULT 'revamp',
    PRIMARY KEY (table_name, row_id)
) ENGINE=InnoDB;

DROP TRIGGER IF EXISTS revamp_users_tombstone;
CREATE TRIGGER revamp_users_tombstone AFTER DELETE ON revamp_users FOR EACH ROW
    INSERT INTO dbsync_tombstones (table_name, row_id, row_updated_at, row_source, deleted_at, source)
    VALUES ('revamp_users', OLD.id, OLD.updated_at, OLD.source,
        UTC_TIMESTAMP(6) + INTERVAL TIMESTAMPDIFF(MICROSECOND, NOW(6), SYSDATE(6)) MICROSECOND,
        IFNULL(@dbsync_origin, 'revamp'))
    ON DUPLICATE KEY UPDATE row_updated_at = VALUES(row_updated_at), row_source = VALUES(row_source),
        deleted_at = VALUES(deleted_at), source = VALUES(source);
DROP TRIGGER IF EXISTS revamp_posts_tombstone;
CREATE TRIGGER revamp_posts_tombstone AFTER DELETE ON revamp_posts FOR EACH ROW
    INSERT INTO dbsync_tombstones (table_name, row_id, row_updated_at, row_source, deleted_at, source)
    VALUES ('revamp_posts', OLD.id, OLD.updated_at, OLD.source,
        UTC_TIMESTAMP(6) + INTERVAL TIMESTAMPDIFF(MICROSECOND, NOW(6), SYSDATE(6)) MICROSECOND,
        IFNULL(@dbsync_origin, 'revamp'))
    ON DUPLICATE KEY UPDATE row_updated_at = VALUES(row_updated_at), row_source = VALUES(row_source),
        deleted_at = VALUES(deleted_at), source = VALUES(source);
DROP TRIGGER IF EXISTS revamp_post_likes_tombstone;
CREATE TRIGGER revamp_post_likes_tombstone AFTER DELETE ON revamp_post_likes FOR EACH ROW
    INSERT INTO dbsync_tombstones (table_name, row_id, row_updated_at, row_source, deleted_at, source)
    VALUES ('revamp_post_likes', OLD.id, OLD.updated_at, OLD.source,
        UTC_TIMESTAMP(6) + INTERVAL TIMESTAMPDIFF(MICROSECOND, NOW(6), SYSDATE(6)) MICROSECOND,
        IFNULL(@dbsync_origin, 'revamp'))
    ON DUPLICATE KEY UPDATE row_updated_at = VALUES(row_updated_at), row_source = VALUES(row_source),
        deleted_at = VALUES(deleted_at), source = VALUES(source);

-- InnoDB runs no triggers for ON DELETE CASCADE, so a cascaded child would leave no tombstone and a late change of
-- it from the other side would wait for a parent that never comes. These BEFORE DELETE triggers delete the
-- children first, as ordinary deletes that fire the children's own triggers; the foreign keys' CASCADE then finds
-- nothing left (and still guards anything deleted outside these triggers).
DROP TRIGGER IF EXISTS revamp_users_cascade;
CREATE TRIGGER revamp_users_cascade BEFORE DELETE ON revamp_users FOR EACH ROW
    DELETE FROM revamp_posts WHERE user_id = OLD.id;
DROP TRIGGER IF EXISTS revamp_posts_cascade;
CREATE TRIGGER revamp_posts_cascade BEFORE DELETE ON revamp_posts FOR EACH ROW
    DELETE FROM revamp_post_likes WHERE post_id = OLD.id;
DROP TRIGGER IF EXISTS revamp_users_cascade_likes;
CREATE TRIGGER revamp_users_cascade_likes BEFORE DELETE ON revamp_users FOR EACH ROW
    DELETE FROM revamp_post_likes WHERE user_id = OLD.id;
