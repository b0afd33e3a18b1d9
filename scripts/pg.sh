#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests: Debian's `postgresql`
# package, a new cluster in a temporary folder, on a free loopback port,
# with no password (trust on loopback only) and fsync off.
#
#   scripts/pg.sh run -- CMD...   start a cluster, run CMD with
#                                 STEPWISE_TEST_PG_URL set, stop it (always)
#   scripts/pg.sh start DIR       start one in DIR; prints its URL
#   scripts/pg.sh stop DIR        stop the one in DIR and remove DIR
#
# PostgreSQL refuses to run as root: as root the cluster runs as the
# `postgres` user the package creates.
set -euo pipefail

bin_dir() {
  local d
  for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/initdb" ] && { echo "$d"; return; }
  done
  echo "pg.sh: PostgreSQL is not installed (scripts/setup.sh installs Debian's postgresql)" >&2
  exit 1
}

as_owner() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

# A loopback port nothing listens on (bash only: nothing else to install).
free_port() {
  local port i
  for i in $(seq 1 50); do
    port=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return
    fi
  done
  echo "pg.sh: no free port found" >&2
  exit 1
}

start() {
  local dir=$1 bin port
  bin=$(bin_dir)
  mkdir -p "$dir"
  [ "$(id -u)" = 0 ] && chown postgres "$dir"
  as_owner "$bin/initdb" -D "$dir/data" -U stepwise --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; exit 1; }
  port=$(free_port)
  as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/data/server.log" -w -t 30 \
    -o "-p $port -k $dir/data -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
    start >/dev/null || { cat "$dir/data/server.log" >&2; exit 1; }
  echo "$port" >"$dir/port"
  as_owner "$bin/createdb" -h 127.0.0.1 -p "$port" -U stepwise stepwise
  echo "postgres://stepwise@127.0.0.1:$port/stepwise"
}

stop() {
  local dir=$1
  [ -d "$dir/data" ] && as_owner "$(bin_dir)/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}

case "${1:-}" in
  start) start "$2" ;;
  stop) stop "$2" ;;
  run)
    shift
    [ "${1:-}" = "--" ] && shift
    dir=$(mktemp -d /tmp/stepwise-pg.XXXXXX)
    trap 'stop "$dir"' EXIT
    STEPWISE_TEST_PG_URL=$(start "$dir")
    export STEPWISE_TEST_PG_URL
    "$@"
    ;;
  *)
    echo "usage: scripts/pg.sh run -- CMD... | start DIR | stop DIR" >&2
    exit 2
    ;;
esac
