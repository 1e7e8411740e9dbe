"""Every route of the alerting feature, for the app to include at once."""

from fastapi import APIRouter

from app.alerting.router import admin
from app.alerting.router import router as inbound
from app.alerting.subscriptions_router import router as subscriptions

router = APIRouter()
router.include_router(admin)
router.include_router(inbound)
router.include_router(subscriptions)
