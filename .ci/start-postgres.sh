#!/usr/bin/env bash
# Start a local PostgreSQL server for the distributed hyperparameter search tests
# (`-optimize --storage postgresql://...`), with a user and a database for them.
#
#   eval "$(.ci/start-postgres.sh)"    # exports SB3_REINFORCE_TEST_POSTGRES_URL
#
# - installs Debian's `postgresql` package with apt-get when it is missing (needs root;
#   SB3_REINFORCE_PG_INSTALL=0 forbids it: the tests use that to only start an installed server)
# - starts the first cluster (creating one if there is none); it listens on localhost (127.0.0.1)
# - creates the user and the database if they do not exist (idempotent, safe to run again)
# - prints `export SB3_REINFORCE_TEST_POSTGRES_URL=postgresql://...` on stdout (and nothing else) and
#   writes the URL alone to $SB3_REINFORCE_PG_URL_FILE (default /tmp/sb3-reinforce-postgres-url)
# Progress and errors go to stderr. Exit status is non-zero when no server could be started.
set -euo pipefail

PG_USER=${SB3_REINFORCE_PG_USER:-sb3_reinforce}
PG_PASSWORD=${SB3_REINFORCE_PG_PASSWORD:-sb3_reinforce}
PG_DB=${SB3_REINFORCE_PG_DB:-sb3_reinforce_test}
URL_FILE=${SB3_REINFORCE_PG_URL_FILE:-/tmp/sb3-reinforce-postgres-url}

log() { echo "start-postgres: $*" >&2; }

# Run a command as the `postgres` system user
as_postgres() {
    if [ "$(id -un)" = postgres ]; then
        "$@"
    elif [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        sudo -n -u postgres -- "$@"
    fi
}

if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    if [ "${SB3_REINFORCE_PG_INSTALL:-1}" != 1 ]; then
        log "PostgreSQL is not installed (and SB3_REINFORCE_PG_INSTALL=${SB3_REINFORCE_PG_INSTALL} forbids installing it)"
        exit 1
    fi
    if [ "$(id -u)" != 0 ]; then
        log "PostgreSQL is not installed and installing it needs root: apt-get install postgresql"
        exit 1
    fi
    log "installing Debian's postgresql package"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends postgresql >&2
fi

# First existing cluster, else a new "main" cluster for the newest installed version
read -r version cluster port status _ < <(pg_lsclusters --no-header 2>/dev/null | head -n 1) || true
if [ -z "${version:-}" ]; then
    version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
    cluster=main
    log "creating cluster $version/$cluster"
    pg_createcluster "$version" "$cluster" >&2
    read -r version cluster port status _ < <(pg_lsclusters --no-header "$version" "$cluster")
fi

if [ "$status" != online ]; then
    log "starting cluster $version/$cluster on port $port"
    pg_ctlcluster "$version" "$cluster" start >&2
fi
for _ in $(seq 30); do
    pg_isready -q -h 127.0.0.1 -p "$port" && break
    sleep 1
done
pg_isready -h 127.0.0.1 -p "$port" >&2

psql_admin() { as_postgres psql -p "$port" -v ON_ERROR_STOP=1 -qtAX "$@"; }
if [ "$(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname = '$PG_USER'")" != 1 ]; then
    log "creating user $PG_USER"
    psql_admin -c "CREATE ROLE \"$PG_USER\" LOGIN PASSWORD '$PG_PASSWORD'"
fi
if [ "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = '$PG_DB'")" != 1 ]; then
    log "creating database $PG_DB"
    psql_admin -c "CREATE DATABASE \"$PG_DB\" OWNER \"$PG_USER\""
fi

url="postgresql://$PG_USER:$PG_PASSWORD@127.0.0.1:$port/$PG_DB"
PGPASSWORD=$PG_PASSWORD psql "$url" -qtAX -c "SELECT 1" >/dev/null
echo "$url" >"$URL_FILE"
log "ready: $url"
echo "export SB3_REINFORCE_TEST_POSTGRES_URL=$url"
