/* The C ABI's test (core/include/dbsync.h, libdbsync_core): built with -Wall -Werror and run under ASan and
 * valgrind by testing/scripts/test-c-abi.sh, which also checks the database side.
 *
 *   test_capi MAPPING_PATH                 the pure part: version, transform, echo, malformed input, bad config
 *   test_capi MAPPING_PATH CONFIG_JSON     also a consumer: one run with stop_when_empty (prints its counters as
 *                                          "stats: {...}" for the script), then a stop from a second thread
 *
 * Prints one line per check and ends with "test_capi: N passed, N failed"; exits 1 if any failed. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dbsync.h"

/* A running consumer must return this soon after dbsync_consumer_stop (the promise: within a second). */
#define STOP_BOUND_S 1.0

static int passed, failed;

static void check(int ok, const char *what, const char *detail) {
    if (ok) {
        passed++;
        printf("  ok    %s\n", what);
    } else {
        failed++;
        printf("  FAIL  %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    }
}

static int contains(const char *text, const char *part) { return text != NULL && strstr(text, part) != NULL; }

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static char *read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    size_t cap = 4096, len = 0, n;
    char *text = malloc(cap);
    while (text != NULL && (n = fread(text + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (cap - len - 1 == 0) {
            char *bigger = realloc(text, cap *= 2);
            if (bigger == NULL)
                free(text);
            text = bigger;
        }
    }
    fclose(f);
    if (text != NULL)
        text[len] = '\0';
    return text;
}

/* A legacy user change in the seed's event contract, written by `source`. */
static void seed_user(char *buf, size_t size, const char *source) {
    snprintf(buf, size,
             "{\"event_id\": \"2f1c7a4e-5b0d-4c1e-9a8e-0d6f3b2a1c00\", \"entity_type\": \"user\", "
             "\"operation\": \"CREATE\", \"primary_key\": 5, \"source\": \"%s\", "
             "\"timestamp\": \"2026-11-25T23:18:17Z\", \"event_version\": 1, \"payload\": {\"id\": 5, "
             "\"username\": \"quicktest\", \"email\": \"q@t.com\", \"full_name\": \"Quick Test\", "
             "\"status\": \"active\", \"is_admin\": false, \"created_at\": \"2026-11-24T08:00:00Z\", "
             "\"updated_at\": \"2026-11-25T23:18:17Z\", \"source\": \"%s\"}}",
             source, source);
}

static void test_version(void) {
    const char *version = dbsync_version();
    check(version != NULL && version[0] >= '0' && version[0] <= '9', "dbsync_version() is a version number",
          version);
}

static void test_transform(const char *mapping) {
    char message[1024];
    char *out = NULL, *err = NULL;

    seed_user(message, sizeof message, "legacy");
    DbsyncStatus status = dbsync_transform(mapping, DBSYNC_DIRECTION_LEGACY_TO_REVAMP, message, &out, &err);
    check(status == DBSYNC_STATUS_OK && err == NULL, "a legacy user event transforms", err);
    check(contains(out, "\"outcome\":\"upsert\"") && contains(out, "\"table\":\"revamp_users\""),
          "it becomes an upsert into revamp_users", out);
    check(contains(out, "\"user_name\":\"quicktest\"") && contains(out, "\"email_address\":\"q@t.com\""),
          "username and email get the revamp names", out);
    check(contains(out, "\"first_name\":\"Quick\"") && contains(out, "\"last_name\":\"Test\""),
          "full_name is split into first_name and last_name", out);
    dbsync_string_free(out);
    dbsync_string_free(err);

    seed_user(message, sizeof message, "sync_service");
    status = dbsync_transform(mapping, DBSYNC_DIRECTION_LEGACY_TO_REVAMP, message, &out, &err);
    check(status == DBSYNC_STATUS_OK && contains(out, "\"outcome\":\"echo\""),
          "a sync_service change is recognised as an echo", out != NULL ? out : err);
    dbsync_string_free(out);
    dbsync_string_free(err);

    status = dbsync_transform(mapping, DBSYNC_DIRECTION_LEGACY_TO_REVAMP, "{\"event_id\": \"2f1c", &out, &err);
    check(status == DBSYNC_STATUS_DECODE && out == NULL && contains(err, "malformed"),
          "malformed JSON is rejected with DBSYNC_STATUS_DECODE and a message", err);
    dbsync_string_free(out);
    dbsync_string_free(err);

    status = dbsync_transform(mapping, 7, "{}", &out, &err);
    check(status == DBSYNC_STATUS_INVALID_ARGUMENT && contains(err, "direction"),
          "an unknown direction is refused by name", err);
    dbsync_string_free(err);

    status = dbsync_transform(mapping, DBSYNC_DIRECTION_LEGACY_TO_REVAMP, NULL, &out, &err);
    check(status == DBSYNC_STATUS_INVALID_ARGUMENT && contains(err, "message_json"),
          "a NULL message is refused by name", err);
    dbsync_string_free(err);

    status = dbsync_transform("version = ", DBSYNC_DIRECTION_LEGACY_TO_REVAMP, message, &out, &err);
    check(status == DBSYNC_STATUS_MAPPING && err != NULL, "a broken mapping is DBSYNC_STATUS_MAPPING", err);
    dbsync_string_free(err);

    /* Errors are optional: NULL err still gets the status. */
    status = dbsync_transform(mapping, DBSYNC_DIRECTION_LEGACY_TO_REVAMP, "[]", &out, NULL);
    check(status == DBSYNC_STATUS_DECODE && out == NULL, "err may be NULL", NULL);
}

static void test_bad_config(const char *mapping_path) {
    struct { const char *config, *want, *what; } cases[] = {
        {"not json", "JSON", "a config that is not JSON is DBSYNC_STATUS_CONFIG"},
        {"{\"brokers\": \"127.0.0.1:9092\"}", "group_id", "a missing field is named"},
        {NULL, "batch_size", "an out-of-range batch_size is named"},
    };
    char out_of_range[1024];
    snprintf(out_of_range, sizeof out_of_range,
             "{\"brokers\": \"127.0.0.1:9092\", \"group_id\": \"g\", \"topic\": \"legacy.events\", "
             "\"direction\": \"legacy_to_revamp\", \"target_dsn\": \"mysql://u:p@127.0.0.1:3306/db\", "
             "\"mapping_path\": \"%s\", \"batch_size\": 0}",
             mapping_path);
    cases[2].config = out_of_range;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        DbsyncConsumer *c = (DbsyncConsumer *)&cases; /* must be overwritten with NULL */
        char *err = NULL;
        DbsyncStatus status = dbsync_consumer_new(cases[i].config, &c, &err);
        check(status == DBSYNC_STATUS_CONFIG && c == NULL && contains(err, cases[i].want), cases[i].what, err);
        dbsync_string_free(err);
    }
    dbsync_consumer_stop(NULL);
    dbsync_consumer_free(NULL);
    check(1, "stop and free accept NULL", NULL);
}

struct run_args {
    const DbsyncConsumer *consumer;
    DbsyncStatus status;
};

static void *run_until_stopped(void *arg) {
    struct run_args *args = arg;
    char *stats = NULL, *err = NULL;
    args->status = dbsync_consumer_run(args->consumer, 0, 30000, false, &stats, &err);
    if (err != NULL)
        printf("  run: %s\n", err);
    dbsync_string_free(stats);
    dbsync_string_free(err);
    return NULL;
}

static void test_consumer(const char *config) {
    DbsyncConsumer *c = NULL;
    char *stats = NULL, *err = NULL;
    DbsyncStatus status = dbsync_consumer_new(config, &c, &err);
    check(status == DBSYNC_STATUS_OK && c != NULL, "dbsync_consumer_new connects to the stack", err);
    dbsync_string_free(err);
    if (c == NULL)
        return;

    status = dbsync_consumer_run(c, 0, 120000, true, &stats, &err);
    check(status == DBSYNC_STATUS_OK && contains(stats, "\"consumed\":"),
          "one dbsync_consumer_run(stop_when_empty) returns its counters", err);
    if (stats != NULL)
        printf("stats: %s\n", stats);
    dbsync_string_free(stats);
    dbsync_string_free(err);

    struct run_args args = {c, DBSYNC_STATUS_PANIC};
    pthread_t thread;
    if (pthread_create(&thread, NULL, run_until_stopped, &args) != 0) {
        check(0, "start a second thread", NULL);
    } else {
        struct timespec settle = {1, 500000000};
        nanosleep(&settle, NULL);
        double asked = now_s();
        dbsync_consumer_stop(c);
        pthread_join(thread, NULL);
        double took = now_s() - asked;
        char detail[64];
        snprintf(detail, sizeof detail, "returned %.3f s after stop", took);
        check(args.status == DBSYNC_STATUS_OK && took < STOP_BOUND_S,
              "stop from another thread ends a running consumer within a second", detail);
        printf("  (%s)\n", detail);
    }
    dbsync_consumer_free(c);
}

int main(int argc, char **argv) {
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s MAPPING_PATH [CONFIG_JSON]\n", argv[0]);
        return 2;
    }
    char *mapping = read_file(argv[1]);
    if (mapping == NULL) {
        fprintf(stderr, "cannot read %s\n", argv[1]);
        return 2;
    }
    test_version();
    test_transform(mapping);
    test_bad_config(argv[1]);
    if (argc == 3)
        test_consumer(argv[2]);
    free(mapping);
    printf("test_capi: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
