"""The application factory."""
from __future__ import annotations

from flask import Flask
from flask.sessions import SessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix

from bff import api_docs, errors, logs, openapi, routing
from bff import config as settings
from bff.crypto import DataCipher
from bff.db_pool import ping_when_idle
from bff.extensions import api, db, limiter, migrate
from bff.jsonio import OrjsonProvider, refuse_unusable_input


class NoCookieSessions(SessionInterface):
    """The BFF authenticates with bearer tokens and sets no cookies: skip Flask's cookie session."""

    def open_session(self, app, request):
        """Always the null session."""
        return self.make_null_session(app)

    def save_session(self, app, session, response):
        """Nothing to save."""


class BffFlask(Flask):
    """Flask with the faster JSON provider and no cookie session."""

    json_provider_class = OrjsonProvider
    session_interface = NoCookieSessions()


def create_app(overrides: dict | None = None, *, his=None, wx_login=None, clock=None, gateways=None,
               health_card=None, sms=None) -> Flask:
    """Build the BFF; tests pass overrides and in-process fakes for the HIS, WeChat, the gateways, SMS, the clock."""
    app = BffFlask("bff")
    app.config.update(settings.load())
    app.config.update(overrides or {})
    settings.check_production(app.config)
    # The OpenAPI document stays in production (the mini-program team and acceptance checks read it);
    # the Swagger UI page is off there unless API_DOCS_ENABLED, and never loads files from elsewhere.
    app.config.update(API_TITLE="Yiqiao BFF", API_VERSION="v1", OPENAPI_VERSION="3.0.3",
                      OPENAPI_URL_PREFIX="/api", OPENAPI_JSON_PATH="v1/openapi.json",
                      RATELIMIT_STORAGE_URI=app.config["RATELIMIT_STORAGE_URI"], **api_docs.settings(app.config))
    if not app.testing:
        logs.configure(app.config["LOG_LEVEL"])
    routing.install(app)
    _install_services(app, his, wx_login, clock, gateways, health_card, sms)
    _install_extensions(app)
    _register_blueprints(app)
    _register_cli(app)
    _install_celery(app)
    _install_his_recovery(app)
    if app.config["PROXY_HOPS"]:
        # Behind nginx the peer is the proxy: rate limits, the audit log and kiosk checks need the
        # patient's or nurse's own address, which only the configured proxies may tell us.
        hops = app.config["PROXY_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)
    return app


def _install_his_recovery(app: Flask) -> None:
    """Where background work runs, the HIS coming back releases held places and settles bookings at once."""
    his = app.extensions["his"]
    if hasattr(his, "breaker") and (app.config["JOBS_IN_PROCESS"] or app.config.get("CELERY_BROKER_URL")):
        from bff import jobs

        his.breaker.on_recovery(jobs.on_his_recovery(app))


def _install_celery(app: Flask) -> None:
    """With a broker configured, Celery runs the background work (and is woken when work is queued)."""
    if not app.config.get("CELERY_BROKER_URL"):
        return
    from bff import tasks

    tasks.init_celery(app)
    if not app.config["JOBS_IN_PROCESS"]:
        app.extensions["outbox_wake"] = tasks.wake_outbox


def _install_services(app: Flask, his, wx_login, clock, gateways, health_card, sms) -> None:
    from bff import bootstrap

    app.extensions["data_cipher"] = DataCipher(app.config["DATA_KEY"])
    app.extensions["his"] = his if his is not None else bootstrap.build_his(app.config)
    app.extensions["wx_login"] = wx_login if wx_login is not None else bootstrap.build_wx_login(app.config)
    app.extensions["payment_gateways"] = gateways if gateways is not None else bootstrap.build_gateways(app.config)
    app.extensions["health_card"] = health_card if health_card is not None else bootstrap.build_health_card(app.config)
    app.extensions["sms"] = sms if sms is not None else bootstrap.build_sms(app.config)
    if clock is not None:
        app.extensions["clock"] = clock


def _install_extensions(app: Flask) -> None:
    from bff.auth.tokens import load_user_from_header
    from bff.his import resilience

    db.init_app(app)
    migrate.init_app(app, db, directory=app.config.get("MIGRATIONS_DIR", "migrations"))
    logs.install_request_logging(app)
    # The user must be known before flask-limiter computes its per-user key.
    app.before_request(load_user_from_header)
    app.before_request(resilience.reset_stale)
    app.before_request(refuse_unusable_input)
    limiter.init_app(app)
    # Only booking attempts are limited, by their route decorator, which checks the limit itself.
    # Flask-Limiter's before-request pass would cost every catalog read for no limit at all.
    app.before_request_funcs[None].remove(limiter._check_request_limit)
    api.init_app(app, spec_kwargs={"extra_plugins": [openapi.ContractPlugin(app)]})
    api_docs.register(app)
    errors.register(app)
    with app.app_context():
        ping_when_idle(db.engine, app.config["DB_PING_IDLE_SECONDS"])
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        _tune_sqlite(app)


def _tune_sqlite(app: Flask) -> None:
    """WAL and a busy timeout so concurrent requests wait for the write lock instead of failing.

    pysqlite begins a transaction only at the first write, so a SAVEPOINT sent first would start
    one of its own, and releasing it would commit at once: a savepoint then begins the real
    transaction first, so rolling back undoes it as on PostgreSQL.
    """
    from sqlalchemy import event

    with app.app_context():
        @event.listens_for(db.engine, "connect")
        def _pragmas(connection, _record):
            cursor = connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=15000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        @event.listens_for(db.engine, "savepoint")
        def _begin_before_savepoint(connection, _name):
            raw = connection.connection.dbapi_connection
            if not raw.in_transaction:
                raw.execute("BEGIN")


def _register_blueprints(app: Flask) -> None:
    from bff import outbox  # noqa: F401 -- its table
    from bff.appointments import orders as appointment_orders
    from bff.appointments.routes import blp as appointments
    from bff.auth.routes import blp as auth
    from bff.billing import service as billing
    from bff.billing.routes import blp as bills
    from bff.catalog.routes import blp as catalog
    from bff.health import blp as health
    from bff.health_cards.routes import blp as health_cards
    from bff.kiosk.routes import blp as kiosk
    from bff.patients.routes import blp as patients
    from bff.payments.routes import blp as payments
    from bff.payments.routes import notify_blp
    from bff.staff.admin_routes import bills_blp as admin_bills
    from bff.staff.admin_routes import blp as admin_refunds
    from bff.staff.routes import blp as staff

    app.register_blueprint(health)
    app.register_blueprint(notify_blp)
    for blueprint in (auth, patients, catalog, appointments, payments, bills, kiosk, health_cards, staff,
                      admin_refunds, admin_bills):
        api.register_blueprint(blueprint)
    openapi.add_gateway_notifications(app, api.spec)
    appointment_orders.register()
    billing.register()


def _register_cli(app: Flask) -> None:
    from bff.cli import his_cli, jobs_cli, kiosk_cli, payments_cli, staff_cli

    for group in (his_cli, jobs_cli, payments_cli, kiosk_cli, staff_cli):
        app.cli.add_command(group)
