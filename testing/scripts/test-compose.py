#!/usr/bin/env python3
"""docker-compose.yml cannot be run here (no Docker engine), so this checks it against the native stack instead:
the same images' families, ports, database names, topics, Connect storage topics, the server settings CDC needs,
every mounted file present, and every ${env:...} the connector files use provided to the Connect container.
Prints one line per check and "N passed, N failed"; exits non-zero on any failure."""

import json
import pathlib
import re
import sys

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
results = []


def check(name, ok, detail=""):
    results.append(ok)
    print(f"  {'ok  ' if ok else 'FAIL'}  {name}" + ("" if ok else f": {detail}"))


def env_file(path):
    values = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            values[key] = value
    return values


def properties(path):
    return env_file(path)


compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
services = compose["services"]
env = env_file(ROOT / "stack.env")
worker = properties(ROOT / "testing/stack/conf/connect-distributed.properties")

check("images: postgres:15", services["postgres"]["image"] == "postgres:15", services["postgres"]["image"])
check("images: mysql:8.0", services["mysql"]["image"] == "mysql:8.0", services["mysql"]["image"])
check("images: Apache Kafka 4.x", re.fullmatch(r"apache/kafka:4\.\d+\.\d+", services["kafka"]["image"]) is not None,
      services["kafka"]["image"])
check("images: Debezium Connect 3.x", re.fullmatch(r"quay\.io/debezium/connect:3\.\d+.*", services["connect"]["image"])
      is not None, services["connect"]["image"])

for service, port in [("postgres", env["DBSYNC_PG_PORT"]), ("mysql", env["DBSYNC_MYSQL_PORT"]),
                      ("kafka", env["DBSYNC_BROKERS"].rsplit(":", 1)[1]),
                      ("connect", env["DBSYNC_CONNECT_URL"].rsplit(":", 1)[1])]:
    published = [p.split(":")[1] for p in services[service]["ports"]]
    bound = all(p.startswith("127.0.0.1:") for p in services[service]["ports"])
    check(f"{service} publishes port {port} on loopback", port in published and bound, services[service]["ports"])

check("legacy database name", services["postgres"]["environment"]["POSTGRES_DB"] == env["DBSYNC_PG_DATABASE"])
check("revamp database name", services["mysql"]["environment"]["MYSQL_DATABASE"] == env["DBSYNC_MYSQL_DATABASE"])
for service in ("postgres", "mysql"):
    service_env = services[service]["environment"]
    check(f"{service} account passwords match stack.env",
          service_env["DBSYNC_DEBEZIUM_PASSWORD"] == env["DBSYNC_DEBEZIUM_PASSWORD"]
          and service_env["DBSYNC_SYNC_PASSWORD"] == env["DBSYNC_SYNC_PASSWORD"])

check("postgres runs with wal_level=logical", "wal_level=logical" in services["postgres"]["command"])
mysql_flags = services["mysql"]["command"]
for flag in ("--binlog-format=ROW", "--binlog-row-image=FULL", "--default-time-zone=+00:00"):
    check(f"mysql runs with {flag}", flag in mysql_flags, mysql_flags)
check("mysql has a server id", any(f.startswith("--server-id=") for f in mysql_flags))
native_cnf = (ROOT / "testing/stack/conf/my.cnf").read_text()
for setting in ("binlog_format = ROW", "binlog_row_image = FULL", "default_time_zone = '+00:00'"):
    check(f"native my.cnf has {setting}", setting in native_cnf)

for service in services.values():
    for volume in service.get("volumes", []):
        source = volume.split(":")[0]
        if source.startswith("./"):
            check(f"mounted {source} exists", (ROOT / source).exists())

topics_command = " ".join(services["kafka-topics"]["command"])
for topic in (env["DBSYNC_LEGACY_TOPIC"], env["DBSYNC_REVAMP_TOPIC"], env["DBSYNC_DLQ_TOPIC"]):
    check(f"topic {topic} is created", topic in topics_command)
check(f"topics get {env['DBSYNC_TOPIC_PARTITIONS']} partitions",
      f"--partitions {env['DBSYNC_TOPIC_PARTITIONS']}" in topics_command)

connect_env = services["connect"]["environment"]
check("Connect group id", connect_env["GROUP_ID"] == worker["group.id"])
for key, prop in [("CONFIG_STORAGE_TOPIC", "config.storage.topic"), ("OFFSET_STORAGE_TOPIC", "offset.storage.topic"),
                  ("STATUS_STORAGE_TOPIC", "status.storage.topic")]:
    check(f"Connect {prop}", connect_env[key] == worker[prop], f"{connect_env[key]} != {worker[prop]}")
check("Connect resolves ${env:...}", connect_env["CONNECT_CONFIG_PROVIDERS_ENV_CLASS"]
      == worker["config.providers.env.class"])
connect_volumes = services["connect"].get("volumes", [])
check("Connect loads the capture filter as a plugin",
      any(v.startswith("capture-filter:/kafka/connect/") for v in connect_volumes), connect_volumes)
builder = services.get("capture-filter", {})
check("the capture filter is built from debezium/capture-filter",
      "./debezium/capture-filter:/src:ro" in builder.get("volumes", []) and "/src/build.sh" in " ".join(builder.get("command", [])))
check("Connect waits for the capture filter's build",
      services["connect"]["depends_on"].get("capture-filter", {}).get("condition") == "service_completed_successfully")
filter_classes = set((ROOT / "debezium/capture-filter/resources/META-INF/services/"
                      "org.apache.kafka.connect.transforms.Transformation").read_text().split())
for name in ("postgres-connector.json", "mysql-connector.json"):
    config = json.loads((ROOT / "debezium" / name).read_text())["config"]
    for key, value in config.items():
        if key.startswith("transforms.") and key.endswith(".type") and value.startswith("io.dbsync."):
            check(f"{name}: {value} is in the capture filter's jar", value in filter_classes)
    for var in sorted(set(re.findall(r"\$\{env:(\w+)\}", json.dumps(config)))):
        check(f"{name}: Connect container provides {var}", var in connect_env)
        if var in connect_env and not var.endswith(("_HOST", "BROKERS")):
            check(f"{name}: {var} matches stack.env", str(connect_env[var]) == env[var],
                  f"{connect_env[var]} != {env[var]}")

passed = sum(results)
print(f"test-compose: {passed} passed, {len(results) - passed} failed")
sys.exit(0 if passed == len(results) else 1)
