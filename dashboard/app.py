"""The dashboard application: pages, JSON API and metrics over the job ledger and the broker."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import dramatiq
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from broker.settings import Settings
from dashboard import rendering
from dashboard.ratelimit import LoginThrottle, RateLimiter
from dashboard.request_guard import WRITE_METHODS, host_refusal, write_refusal
from dashboard.security import CSRF_COOKIE, SECURITY_HEADERS, Guard, NotLoggedIn
from domain.errors import InvalidArgument, NotFound

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
#: Swagger UI's own page runs an inline script; every other page runs none.
DOCS_CSP = (
    "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'"
)


@dataclass
class Dashboard:
    """What every route needs: settings, the broker to enqueue on, the guard and the templates."""

    settings: Settings
    broker: dramatiq.Broker
    guard: Guard
    admin_limiter: RateLimiter
    templates: Jinja2Templates
    login_throttle: LoginThrottle


def dashboard_of(request: Request) -> Dashboard:
    return request.app.state.dashboard


def create_app(settings: Settings, broker: dramatiq.Broker) -> FastAPI:
    """The ASGI app; mount it under a prefix with `parent.mount("/jobs", create_app(...))`."""
    from dashboard import api, metrics, pages

    app = FastAPI(
        title="bookjobs",
        summary="Jobs, queues, workers and schedules of bookjobs (Dramatiq on RabbitMQ).",
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    templates = Jinja2Templates(directory=str(TEMPLATES))
    rendering.configure(templates)
    app.state.dashboard = Dashboard(
        settings, broker, Guard(settings.dashboard_token), RateLimiter(5, 60.0), templates, LoginThrottle()
    )
    app.include_router(pages.router)
    app.include_router(api.router)
    app.include_router(metrics.router)
    _mount_docs(app)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    _mount_media(app, settings)
    _add_handlers(app)

    @app.middleware("http")
    async def headers(request: Request, call_next) -> Response:
        refusal = _refusal(request, settings)
        if refusal is not None:
            response: Response = JSONResponse({"detail": refusal[1]}, status_code=refusal[0])
        else:
            response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        new_csrf = getattr(request.state, "new_csrf", None)
        if new_csrf:
            secure = request.url.scheme == "https"
            response.set_cookie(CSRF_COOKIE, new_csrf, httponly=True, samesite="strict", secure=secure)
        return response

    return app


def _refusal(request: Request, settings: Settings) -> tuple[int, str] | None:
    """(status, reason) when the request must not reach a route: foreign Host, cross-site write."""
    host = host_refusal(
        request.headers.get("host", ""),
        token_set=settings.dashboard_token is not None,
        allowed=settings.dashboard_hosts,
    )
    if host is not None:
        return 421, host
    if request.method in WRITE_METHODS:
        root = request.scope.get("root_path", "")
        return write_refusal(request, api=request.url.path.startswith(f"{root}/api/"))
    return None


def _mount_media(app: FastAPI, settings: Settings) -> None:
    """Serve generated images read-only at MEDIA_URL/images/ (only MEDIA_ROOT/images: no EPUB cache,
    no mail outbox; symlinks are not followed, so nothing outside it is ever served)."""
    if not settings.media_url.startswith("/"):
        return  # MEDIA_URL points at another server (a CDN): it serves them
    url = settings.media_url.rstrip("/") + "/images"
    app.mount(url, StaticFiles(directory=settings.media_root / "images", check_dir=False), name="media")


def _mount_docs(app: FastAPI) -> None:
    import swagger_ui_bundle

    app.mount("/api/docs/static", StaticFiles(directory=swagger_ui_bundle.swagger_ui_path), name="swagger")

    @app.get("/api/docs", include_in_schema=False)
    def docs(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        page = get_swagger_ui_html(
            openapi_url=f"{root}/api/openapi.json",
            title="bookjobs API",
            swagger_js_url=f"{root}/api/docs/static/swagger-ui-bundle.js",
            swagger_css_url=f"{root}/api/docs/static/swagger-ui.css",
            swagger_favicon_url=f"{root}/api/docs/static/favicon-32x32.png",
        )
        page.headers["Content-Security-Policy"] = DOCS_CSP
        return page


def _add_handlers(app: FastAPI) -> None:
    def wants_json(request: Request) -> bool:
        return request.url.path.startswith(f"{request.scope.get('root_path', '')}/api") or (
            "application/json" in request.headers.get("accept", "")
        )

    def error(request: Request, status: int, detail: str) -> Response:
        if wants_json(request):
            return JSONResponse({"detail": detail}, status_code=status)
        templates = dashboard_of(request).templates
        context = {
            "request": request,
            "status": status,
            "detail": detail,
            "guard": dashboard_of(request).guard,
        }
        return templates.TemplateResponse(request, "error.html", context, status_code=status)

    @app.exception_handler(NotFound)
    async def not_found(request: Request, exc: NotFound) -> Response:
        return error(request, 404, str(exc))

    @app.exception_handler(InvalidArgument)
    async def invalid(request: Request, exc: InvalidArgument) -> Response:
        return error(request, 422, str(exc))

    @app.exception_handler(NotLoggedIn)
    async def login_first(request: Request, exc: NotLoggedIn) -> Response:
        root = request.scope.get("root_path", "")
        return RedirectResponse(f"{root}/login?next={request.url.path}", status_code=303)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        response = error(request, exc.status_code, str(exc.detail))
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        return response

    @app.exception_handler(RequestValidationError)
    async def validation(request: Request, exc: RequestValidationError) -> Response:
        problems = "; ".join(f"{'.'.join(str(part) for part in e['loc'])}: {e['msg']}" for e in exc.errors())
        if wants_json(request):
            return JSONResponse({"detail": problems, "errors": jsonable(exc.errors())}, status_code=422)
        return error(request, 422, problems)


def jsonable(errors: list) -> list:
    from fastapi.encoders import jsonable_encoder

    return jsonable_encoder(errors, custom_encoder={Exception: str, bytes: lambda b: b.decode("latin-1")})
