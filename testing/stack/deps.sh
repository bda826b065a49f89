#!/usr/bin/env bash
# `make deps`: installs what the stack and the build need, skipping what is already there (a warm run takes
# seconds). Debian packages through apt; Kafka, Kafka Connect and Debezium jars from Maven Central into
# $STATE/jars (resolved by the poms in testing/stack/maven/).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

APT_PACKAGES=(
    postgresql-15 postgresql-client-15 mariadb-server mariadb-client kcat jq curl iproute2
    openjdk-17-jre-headless openjdk-17-jdk-headless maven # the JDK builds the capture filter (debezium/capture-filter)
    php8.2-cli php8.2-dev php8.2-pgsql php8.2-mysql php-laravel-framework phpunit composer
    clang libclang-dev cmake g++ make pkg-config libcurl4-openssl-dev libssl-dev zlib1g-dev python3-yaml prometheus
    valgrind # the C ABI's test (testing/c/) runs under valgrind and ASan (libasan comes with gcc)
)

install_debian_packages() {
    local missing=() pkg
    for pkg in "${APT_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
    done
    if [ ${#missing[@]} -eq 0 ]; then
        log "debian packages: all present"
        return
    fi
    [ "$(id -u)" = 0 ] || die "missing Debian packages (${missing[*]}); run 'make deps' as root or install them"
    log "debian packages: installing ${missing[*]}"
    # Installing servers must not start Debian's own instances on our ports.
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
        trap 'rm -f /usr/sbin/policy-rc.d' EXIT
    fi
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >"$LOGS/apt.log" 2>&1 ||
        { tail -n 30 "$LOGS/apt.log" >&2; die "apt-get install failed (log: $LOGS/apt.log)"; }
}

# resolve_jars NAME DIR [EXTRA MAVEN ARGS]: copies the runtime closure of maven/NAME.pom.xml into DIR.
resolve_jars() {
    local name=$1 pom="$STACK_DIR/maven/$1.pom.xml" dir=$2
    shift 2
    local stamp="$dir/.pom.sha256" want
    want=$(sha256sum "$pom" | cut -d' ' -f1)
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
        log "jars for $name: present"
        return
    fi
    log "jars for $name: resolving from Maven Central"
    rm -rf "$dir"
    mvn -B -q -f "$pom" dependency:copy-dependencies -DincludeScope=runtime \
        -DoutputDirectory="$dir" "$@" >"$LOGS/mvn-$name.log" 2>&1 ||
        { grep -E 'ERROR' "$LOGS/mvn-$name.log" | head -n 5 >&2; die "maven could not resolve $pom"; }
    echo "$want" >"$stamp"
}

mkdir -p "$LOGS" "$JARS"
install_debian_packages
resolve_jars broker "$JARS/broker"
resolve_jars connect "$JARS/connect"
# Kafka's own jars come from the Connect worker's classpath; a plugin must not carry a second copy.
resolve_jars debezium "$JARS/plugins/debezium" -DexcludeGroupIds=org.apache.kafka,org.slf4j
# debezium-scripting's parent pom is not served for 3.5.x, so its one jar is fetched alone (its dependencies,
# debezium-core and Groovy, are already in the folder).
debezium_version=$(sed -n 's:.*<debezium.version>\(.*\)</debezium.version>.*:\1:p' "$STACK_DIR/maven/debezium.pom.xml")
if [ ! -f "$JARS/plugins/debezium/debezium-scripting-$debezium_version.jar" ]; then
    mvn -B -q dependency:copy -Dartifact="io.debezium:debezium-scripting:$debezium_version" \
        -DoutputDirectory="$JARS/plugins/debezium" >"$LOGS/mvn-scripting.log" 2>&1 ||
        die "maven could not fetch debezium-scripting (log: $LOGS/mvn-scripting.log)"
fi
# The Debezium JDBC sink, for the comparison in `make bench` (testing/benchmarks/jdbc-sink.sh), in its own plugin
# folder at the same Debezium version. Without Jackson: the worker's newer Jackson clashes with a plugin-local copy
# ("BlackbirdModule not a subtype"). Nor the Oracle and SQL Server drivers, which the bench does not use.
jdbc_dir="$JARS/plugins/debezium-jdbc"
[ -f "$jdbc_dir/debezium-connector-jdbc-$debezium_version.jar" ] || rm -f "$jdbc_dir/.pom.sha256"
resolve_jars debezium-jdbc "$jdbc_dir" -Ddebezium.version="$debezium_version" \
    -DexcludeGroupIds=org.apache.kafka,org.slf4j,com.fasterxml.jackson,com.oracle.database,com.microsoft.sqlserver
# dbsync's capture filter (a compiled Connect transformation; debezium/capture-filter/), in its own plugin folder.
"$REPO_ROOT/debezium/capture-filter/build.sh" "$JARS/connect" "$JARS/plugins/dbsync-capture-filter" ||
    die "could not build the capture filter (debezium/capture-filter/build.sh)"
log "deps ready"
