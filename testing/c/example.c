/* The README's "Use from C" example: what dbsync would write for one legacy.events message.
 * Build: cc -Wall -Werror -I core/include testing/c/example.c -L target/release -ldbsync_core -o example
 * Run:   LD_LIBRARY_PATH=target/release ./example "$(cat core/mapping/default.toml)" '{"event_id": ...}' */
#include <stdio.h>
#include "dbsync.h"

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s MAPPING_TOML MESSAGE_JSON\n", argv[0]);
        return 2;
    }
    char *out = NULL, *err = NULL;
    DbsyncStatus status = dbsync_transform(argv[1], DBSYNC_DIRECTION_LEGACY_TO_REVAMP, argv[2], &out, &err);
    if (status == DBSYNC_STATUS_OK)
        printf("%s\n", out); /* {"outcome":"upsert","table":"revamp_users","columns":{...},...} or an echo */
    else
        fprintf(stderr, "dbsync %s: error %d: %s\n", dbsync_version(), (int)status, err);
    dbsync_string_free(out);
    dbsync_string_free(err);
    return status == DBSYNC_STATUS_OK ? 0 : 1;
}
