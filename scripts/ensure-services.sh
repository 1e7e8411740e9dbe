#!/usr/bin/env bash
# Make sure the PostgreSQL and Redis that the tests use are up; start them with this machine's own
# commands when they are not, and fail with a clear message when they cannot be started.
set -euo pipefail

PGHOST=${PGHOST:-127.0.0.1}
PGPORT=${PGPORT:-5432}
REDIS_HOST=${REDIS_HOST:-127.0.0.1}
REDIS_PORT=${REDIS_PORT:-6379}

pg_up() { pg_isready -q -h "$PGHOST" -p "$PGPORT" 2>/dev/null; }
redis_up() { [ "$(redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping 2>/dev/null)" = "PONG" ]; }

wait_for() {
  local name=$1 check=$2
  for _ in $(seq 1 60); do
    if $check; then return 0; fi
    sleep 0.5
  done
  echo "error: $name did not come up on time" >&2
  return 1
}

if ! pg_up; then
  echo "PostgreSQL is not answering on $PGHOST:$PGPORT; starting it"
  if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start || true
  else
    echo "error: PostgreSQL is down and pg_ctlcluster is not available to start it." >&2
    echo "       Start PostgreSQL on $PGHOST:$PGPORT (trust auth, database 'test') and retry." >&2
    exit 1
  fi
  wait_for PostgreSQL pg_up || {
    echo "error: could not start PostgreSQL; see /var/log/postgresql/." >&2
    exit 1
  }
fi

if ! redis_up; then
  echo "Redis is not answering on $REDIS_HOST:$REDIS_PORT; starting it"
  if command -v redis-server >/dev/null; then
    mkdir -p /var/lib/redis /var/log/redis
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$REDIS_PORT" --save "" \
      --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
  else
    echo "error: Redis is down and redis-server is not installed to start it." >&2
    echo "       Start Redis on $REDIS_HOST:$REDIS_PORT and retry." >&2
    exit 1
  fi
  wait_for Redis redis_up || {
    echo "error: could not start Redis; see /var/log/redis/ci.log." >&2
    exit 1
  }
fi

echo "PostgreSQL and Redis are up"
