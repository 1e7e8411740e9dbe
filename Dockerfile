FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /srv/relay

COPY pyproject.toml README.md ./
COPY app/ app/
RUN pip install . && rm -rf build relay.egg-info

COPY alembic/ alembic/
COPY alembic.ini ./

RUN groupadd --system --gid 10001 relay \
    && useradd --system --uid 10001 --gid relay --home-dir /srv/relay --shell /usr/sbin/nologin relay \
    && install -d -o relay -g relay /var/lib/relay

# app.db.migrations finds alembic.ini and alembic/ next to the `app` package it was imported from,
# so import the copy in /srv/relay rather than the one pip put in site-packages.
ENV PYTHONPATH=/srv/relay \
    RELAY_DATABASE_URL=sqlite+aiosqlite:////var/lib/relay/relay.db

USER relay

EXPOSE 8000

CMD ["relay", "serve", "--host", "0.0.0.0", "--port", "8000"]
