"""The API's routers. Adding one is one line here: a module under `central/api/routes/` whose
`router` (a FastAPI APIRouter, paths relative to /api/v1) joins the app. A module may set
`PREFIX` to mount elsewhere (the dashboard sets "" to own "/")."""

ROUTERS = [
    "central.api.routes.depots",
    "central.api.routes.readings",
    "central.api.routes.lots", "central.api.routes.plans", "central.api.routes.reports",
    "central.api.routes.dashboard",
    "central.api.routes.alarms", "central.api.routes.thresholds", "central.api.routes.inspections",
    "central.api.routes.cameras",
]
