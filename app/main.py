"""The FastAPI application."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app import logging as relay_logging
from app.alerting.api import router as alerting_router
from app.comms import tick as process_clock
from app.comms.router import router as comms_router
from app.config import Settings, get_settings
from app.db.session import create_engine, create_sessionmaker
from app.deliveries import runner
from app.deliveries.router import router as deliveries_router
from app.deliveries.service import Dispatcher
from app.errors import install_handlers
from app.incidents.investigation_router import router as investigation_router
from app.incidents.router import router as incidents_router
from app.integrations.clients import Clients
from app.integrations.freshdesk.router import router as freshdesk_router
from app.integrations.pagerduty.webhooks import router as pagerduty_webhooks_router
from app.integrations.slack.router import router as slack_router
from app.jobs.queue import ArqDispatcher, InProcessDispatcher, redis_client, sweep_forever
from app.metrics.exposition import RequestMetrics
from app.metrics.exposition import router as prometheus_router
from app.metrics.router import router as metrics_router
from app.people.router import router as people_router
from app.reconciliation import jobs as reconciliation_jobs
from app.reconciliation.router import router as reconciliation_router
from app.reports.router import router as reports_router
from app.webhooks.router import router as webhooks_router

DESCRIPTION = """
Relay is the source of truth for an incident: roles, timeline, hypotheses, status updates,
mitigation, durable resolution, report and close, kept in step with Slack, PagerDuty and Freshdesk.

Authenticate with `Authorization: Bearer <token>`; make a token with `relay tokens create`.
Errors are RFC 9457 `application/problem+json` documents whose `errors` list names each field at fault.
Edits need the incident's `ETag` as `If-Match`; a stale one gets 412.
"""


@asynccontextmanager
async def delivery_runtime(settings: Settings, engine: AsyncEngine) -> AsyncIterator[Dispatcher]:
    """With Redis, hand deliveries to the workers; without it, run them in this process."""
    if settings.redis.url:
        redis = redis_client(settings.redis.url)
        try:
            yield ArqDispatcher(redis)
        finally:
            await redis.aclose()
        return
    dispatcher = InProcessDispatcher()
    clients = Clients.from_settings(settings)
    rt = runner.Runtime(settings, create_sessionmaker(engine, dispatcher=dispatcher), clients, dispatcher)
    dispatcher.run = partial(runner.deliver, rt)
    sweeper = asyncio.create_task(
        sweep_forever(partial(runner.sweep, rt), settings.delivery.sweep_interval_seconds)
    )
    ticker = asyncio.create_task(process_clock.tick_forever(settings, rt.sessionmaker))
    try:
        yield dispatcher
    finally:
        sweeper.cancel()
        ticker.cancel()
        await dispatcher.aclose()
        await clients.aclose()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    relay_logging.configure(settings.log_level, json=settings.log_json)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(
            settings.database.url, echo=settings.database.echo, pool_size=settings.database.pool_size
        )
        app.state.settings = settings
        app.state.engine = engine
        try:
            async with delivery_runtime(settings, engine) as dispatcher:
                app.state.dispatcher = dispatcher
                app.state.sessionmaker = create_sessionmaker(engine, dispatcher=dispatcher)
                async with reconciliation_jobs.runtime(settings, app.state.sessionmaker) as reconciler:
                    app.state.reconciler = reconciler
                    yield
        finally:
            await engine.dispose()

    app = FastAPI(title="Relay", version="0.1.0", description=DESCRIPTION, lifespan=lifespan)
    install_handlers(app)
    app.include_router(incidents_router)
    app.include_router(investigation_router)
    app.include_router(people_router)
    app.include_router(deliveries_router)
    app.include_router(webhooks_router)
    app.include_router(freshdesk_router)
    app.include_router(alerting_router)
    app.include_router(comms_router)
    app.include_router(reports_router)
    app.include_router(metrics_router)
    app.include_router(prometheus_router)
    app.add_middleware(RequestMetrics)
    app.include_router(pagerduty_webhooks_router)
    app.include_router(slack_router)
    app.include_router(reconciliation_router)

    @app.get("/healthz", tags=["operations"])
    async def health(request: Request) -> JSONResponse:
        """Liveness and database reachability."""
        try:
            async with request.app.state.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception:
            return JSONResponse({"status": "degraded", "database": "unreachable"}, status_code=503)
        return JSONResponse({"status": "ok", "database": "ok"})

    return app
