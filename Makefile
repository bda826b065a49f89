# dbsync: the two commands a newcomer needs are `make demo` (bring the stack up and run the sync) and `make test`.
# Every target is idempotent; `deps` and `up` take seconds when already done.
SHELL := /bin/bash
.DEFAULT_GOAL := help
STACK := testing/stack

.PHONY: help deps up down status wipe ext demo consumers-start consumers-stop test test-stack bench header

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 14

deps: ## install Debian packages and resolve Kafka/Connect/Debezium jars (skips what is present)
	@$(STACK)/deps.sh

up: deps ## start PostgreSQL, MariaDB, Kafka, Connect; apply schemas; create topics; register connectors
	@$(STACK)/up.sh

down: ## stop every service (data kept)
	@$(STACK)/down.sh

status: ## show what runs
	@$(STACK)/status.sh

wipe: ## stop everything and delete the stack's data (jars kept)
	@$(STACK)/wipe.sh

ext: deps ## build the dbsync PHP extension (release) and enable it for the PHP CLI
	@php-ext/install.sh

demo: up ext ## the main job: stack up, both consumers running, the quick test both ways
	@testing/scripts/demo.sh

consumers-start: ## start both artisan consumers and dbsync:supervise in the background (needs `make ext`)
	@testing/scripts/consumers.sh start

consumers-stop: ## stop them (consumers finish their batch and commit)
	@testing/scripts/consumers.sh stop

test: up ## run every test (unit, integration, end to end) against the real stack
	@testing/scripts/run-tests.sh

# The bench's Connect worker runs with the optimizing JIT (testing/benchmarks/README.md); also for its `up`.
bench: export DBSYNC_JVM_FULL_JIT := 1
bench: up ## throughput, lag and memory against the JDBC sink and the database ceiling (minutes; not a test)
	@testing/benchmarks/bench.sh

test-stack: up ## only the stack tests (CDC events, source stamping, echo filter)
	@testing/scripts/test-stack.sh

header: ## regenerate core/include/dbsync.h (the C ABI) with cbindgen; installs cbindgen once
	@core/include/generate.sh
