"""Settings for wuye, read from the environment.

Defaults give a one-command trial: SQLite (WAL) under ``var/``, the ORM task queue, zh-hans, Asia/Shanghai.
Set ``DATABASE_URL`` (e.g. ``postgres://user@127.0.0.1:5432/wuye``) for PostgreSQL.
"""

import datetime
import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("WUYE_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = env_bool("WUYE_DEBUG", False)
SECRET_KEY = os.environ.get("WUYE_SECRET_KEY", "")
if not SECRET_KEY:
    # A stable per-installation key, generated once and kept under var/, so sessions survive restarts
    # without anyone having to invent a secret for a trial install.
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        from django.utils.crypto import get_random_string

        # Created readable by its owner only (0600): O_EXCL so two processes starting at once do not
        # both write, and the mode is set at creation, never widened by the umask.
        try:
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(get_random_string(64))
    if key_file.stat().st_mode & 0o077:
        key_file.chmod(0o600)  # a key file made by an older version was world-readable
    SECRET_KEY = key_file.read_text().strip()

ALLOWED_HOSTS = [
    h for h in os.environ.get("WUYE_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h
]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("WUYE_CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "ninja",  # serves the API docs' Swagger UI from our static files (no CDN, CSP 'self')
    "axes",
    "csp",
    "django_tasks",
    "django_tasks_db",
    "wuye.core",
    "wuye.registry",
    "wuye.billing",
    "wuye.ledger",
    "wuye.dunning",
    "wuye.messaging",
    "wuye.credit",
    "wuye.scoring",
    "wuye.alerts",
    "wuye.banking",
    "wuye.payments",
    "wuye.reports",
    "wuye.owner",
    "wuye.ops",
    "wuye.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "wuye.core.middleware.CurrentProjectMiddleware",
    "csp.middleware.CSPMiddleware",
    # After a POST (payment, contact, …) the sender reads the primary for WUYE_REPLICA_PIN_SECONDS.
    "wuye.core.db_router.PinToPrimaryMiddleware",
    # Last: turns a login refused for too many failures into the lockout page (wuye.core.lockout).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "wuye.urls"
WSGI_APPLICATION = "wuye.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [Path(__file__).resolve().parent / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "wuye.core.context_processors.scope",
                "wuye.navigation.menu",
            ],
        },
    },
]

SQLITE_PATH = VAR_DIR / "wuye.sqlite3"
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{SQLITE_PATH}"), conn_max_age=60
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets the web server read while the task worker writes; IMMEDIATE makes a writing
        # transaction take the write lock at BEGIN, so two writers queue instead of deadlocking.
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; "
            "PRAGMA busy_timeout=10000; PRAGMA cache_size=-64000;"
        ),
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
elif os.environ.get("WUYE_TEST_DB_NAME"):
    # Lets several test runs share one PostgreSQL server without dropping each other's test database.
    DATABASES["default"]["TEST"] = {"NAME": os.environ["WUYE_TEST_DB_NAME"]}

# Read replica (docs/operations/replica.md): reports, exports and the dashboard read from it; writes,
# the fee window, the steward's pages and everything else use the primary. Tests mirror the primary.
if os.environ.get("WUYE_REPLICA_URL"):
    DATABASES["replica"] = dj_database_url.parse(os.environ["WUYE_REPLICA_URL"], conn_max_age=60)
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
    DATABASE_ROUTERS = ["wuye.core.db_router.ReplicaRouter"]
WUYE_REPLICA_PIN_SECONDS = int(os.environ.get("WUYE_REPLICA_PIN_SECONDS", "15"))
WUYE_REPLICA_STALE_SECONDS = int(os.environ.get("WUYE_REPLICA_STALE_SECONDS", "60"))

AUTH_USER_MODEL = "core.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

AUTHENTICATION_BACKENDS = [
    # django-axes first: it refuses a locked-out user name + address before the password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "wuye.core.passwords.MinimumLengthValidator",
        "OPTIONS": {"min_length": int(os.environ.get("WUYE_PASSWORD_MIN_LENGTH", "10"))},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Login throttling (django-axes, docs/operations/security.md): after WUYE_LOGIN_FAILURE_LIMIT wrong
# passwords for one user name from one address, that pair is locked for WUYE_LOGIN_LOCK_MINUTES.
# The same counter guards the page login, the admin login (and so the API's session) and the
# supervisor's password typed on approval forms (wuye.core.approvals).
AXES_FAILURE_LIMIT = int(os.environ.get("WUYE_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = datetime.timedelta(minutes=int(os.environ.get("WUYE_LOGIN_LOCK_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# Attempts during a lockout do not push its end further, so the time we tell the user holds.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "wuye.core.lockout.lockout_response"
AXES_VERBOSE = False

LANGUAGE_CODE = "zh-hans"
# Chinese only: our pages are written in Chinese, so Django's own words (the admin, form errors) must be
# too, whatever language a browser asks for (an English browser saw "Site administration", "Add").
LANGUAGES = [("zh-hans", "简体中文")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True
# ISO first in zh-hans input formats: date inputs render 2026-12-04, which browsers accept.
FORMAT_MODULE_PATH = ["wuye.formats"]

STATIC_URL = "static/"
STATICFILES_DIRS = [Path(__file__).resolve().parent / "static"]
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
MEDIA_URL = "media/"
MEDIA_ROOT = VAR_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
DATA_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024
# Uploads (wuye.core.uploads): files are checked by content (evidence: pictures, PDF, recordings);
# one request carries at most WUYE_UPLOAD_MAX_FILES files of WUYE_UPLOAD_MAX_FILE_BYTES each and
# WUYE_UPLOAD_MAX_REQUEST_BYTES together. A larger request is refused (400) before it is read.
WUYE_UPLOAD_MAX_FILES = int(os.environ.get("WUYE_UPLOAD_MAX_FILES", "10"))
WUYE_UPLOAD_MAX_FILE_BYTES = int(
    os.environ.get("WUYE_UPLOAD_MAX_FILE_BYTES", str(20 * 1024 * 1024))
)
WUYE_UPLOAD_MAX_REQUEST_BYTES = int(
    os.environ.get("WUYE_UPLOAD_MAX_REQUEST_BYTES", str(50 * 1024 * 1024))
)
DATA_UPLOAD_MAX_NUMBER_FILES = WUYE_UPLOAD_MAX_FILES
FILE_UPLOAD_HANDLERS = [
    "wuye.core.uploads.BoundedUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

# Background tasks (docs/operations/workers.md). The ORM queue (django-tasks-db) by default;
# WUYE_TASKS_BACKEND=rq puts them on RQ over Redis (WUYE_REDIS_URL), for workers on several machines.
# Queues: "long" (billing, reports, exports, training), "quick" (SMS, callbacks), "default" (the rest);
# a worker serves all of them or some (``db_worker --queue-name quick``, ``rqworker quick``).
WUYE_TASK_QUEUES = ["default", "long", "quick"]
WUYE_TASKS_BACKEND = os.environ.get("WUYE_TASKS_BACKEND", "django_tasks_db.DatabaseBackend")
if WUYE_TASKS_BACKEND in {"rq", "django_tasks_rq.RQBackend"}:
    WUYE_TASKS_BACKEND = "django_tasks_rq.RQBackend"
    INSTALLED_APPS += ["django_rq", "django_tasks_rq"]
elif WUYE_TASKS_BACKEND in {"db", "database"}:
    WUYE_TASKS_BACKEND = "django_tasks_db.DatabaseBackend"
TASKS = {"default": {"BACKEND": WUYE_TASKS_BACKEND, "QUEUES": WUYE_TASK_QUEUES}}
WUYE_REDIS_URL = os.environ.get("WUYE_REDIS_URL", "redis://127.0.0.1:6379/0")
# RQ kills a job after its queue's timeout (seconds): a billing run of a large project takes minutes.
_RQ_TIMEOUTS = {"default": 3600, "long": 6 * 3600, "quick": 300}
RQ_QUEUES = {
    name: {"URL": WUYE_REDIS_URL, "DEFAULT_TIMEOUT": _RQ_TIMEOUTS[name]}
    for name in WUYE_TASK_QUEUES
}

# --- The schedule (wuye.ops, docs/operations/schedule.md) ----------------------------------------
# The daily chain, in order, per active project: dotted paths of wuye.ops.steps.Step objects. An app
# adds its step with one line (bank statement fetching, online-payment order queries, reconciliation).
WUYE_DAILY_STEPS = [
    "wuye.ops.steps.billing",  # only where the project switched on automatic billing, on its day
    "wuye.ops.steps.dunning",
    "wuye.ops.steps.credit",
    "wuye.ops.steps.warnings",
    "wuye.ops.steps.reminders",  # waits for WUYE_SCHEDULE_MESSAGES_AT and the SMS window (LAW.md §8)
    "wuye.ops.steps.summary",
    "wuye.ops.steps.ledger_check",
    "wuye.ops.steps.training",  # weekly, on WUYE_SCHEDULE_TRAINING_WEEKDAY
    "wuye.ops.steps.online_reconcile",  # yesterday's platform statements, once (not per project)
]
# The chain starts at WUYE_SCHEDULE_AT (local time); steps that send messages wait for
# WUYE_SCHEDULE_MESSAGES_AT (inside 08:00–21:00), and the steps after them wait too (the chain is in order).
WUYE_SCHEDULE_AT = os.environ.get("WUYE_SCHEDULE_AT", "05:30")
WUYE_SCHEDULE_MESSAGES_AT = os.environ.get("WUYE_SCHEDULE_MESSAGES_AT", "09:30")
# The platforms publish yesterday's statements in the morning (WeChat Pay after 10:00).
WUYE_SCHEDULE_RECONCILE_AT = os.environ.get("WUYE_SCHEDULE_RECONCILE_AT", "10:30")
# How often the scheduler asks the platforms about open online orders (主动查单; lost callbacks).
WUYE_ORDER_SWEEP_SECONDS = int(os.environ.get("WUYE_ORDER_SWEEP_SECONDS", "300"))
WUYE_SCHEDULE_TRAINING_WEEKDAY = int(
    os.environ.get("WUYE_SCHEDULE_TRAINING_WEEKDAY", "6")
)  # Sunday
# Days a restarted scheduler goes back to run what it missed (each missed day once).
WUYE_SCHEDULE_CATCH_UP_DAYS = int(os.environ.get("WUYE_SCHEDULE_CATCH_UP_DAYS", "3"))
# How often the scheduler looks (seconds); a step queued or running longer than this is failed.
WUYE_SCHEDULE_TICK_SECONDS = int(os.environ.get("WUYE_SCHEDULE_TICK_SECONDS", "300"))
WUYE_SCHEDULE_STALE_MINUTES = int(os.environ.get("WUYE_SCHEDULE_STALE_MINUTES", "360"))
# A step whose time passed this long ago without a run is shown as "did not run" on the dashboard.
WUYE_SCHEDULE_LATE_MINUTES = int(os.environ.get("WUYE_SCHEDULE_LATE_MINUTES", "60"))

# --- Health and metrics (docs/operations/monitoring.md) ------------------------------------------
# GET /health/ answers 200 or 503 with JSON: each check below (dotted paths of f() -> (ok, detail)).
WUYE_HEALTH_CHECKS = [
    "wuye.ops.health.database",
    "wuye.ops.health.task_queue",
    "wuye.ops.health.scheduler",
    "wuye.ops.health.disk",
]
WUYE_HEALTH_QUEUE_MAX_SECONDS = int(os.environ.get("WUYE_HEALTH_QUEUE_MAX_SECONDS", "900"))
WUYE_HEALTH_MIN_FREE_MB = int(os.environ.get("WUYE_HEALTH_MIN_FREE_MB", "1024"))
# WUYE_METRICS=1: Prometheus metrics (django-prometheus) at /metrics: request latency per view, task
# durations and failures, queue depth. Off by default; expose /metrics to the monitoring host only.
WUYE_METRICS = env_bool("WUYE_METRICS", False)
# Client addresses that may read /metrics (comma-separated; the address Django sees).
WUYE_METRICS_ALLOW = [
    a for a in os.environ.get("WUYE_METRICS_ALLOW", "127.0.0.1,::1").split(",") if a.strip()
]
if WUYE_METRICS:
    INSTALLED_APPS += ["django_prometheus"]
    MIDDLEWARE = [
        "django_prometheus.middleware.PrometheusBeforeMiddleware",
        *MIDDLEWARE,
        "django_prometheus.middleware.PrometheusAfterMiddleware",
    ]
    # Each process (gunicorn worker, task worker, scheduler) also serves its own metrics on the first
    # free port of WUYE_METRICS_PORTS ("8001-8020"): task durations are recorded where tasks run.
    _ports = os.environ.get("WUYE_METRICS_PORTS", "")
    if _ports:
        _low, _, _high = _ports.partition("-")
        PROMETHEUS_METRICS_EXPORT_PORT_RANGE = range(int(_low), int(_high or _low) + 1)
        PROMETHEUS_METRICS_EXPORT_ADDRESS = os.environ.get("WUYE_METRICS_ADDRESS", "127.0.0.1")

# Largest Excel file an import accepts, in rows (a company's biggest project is ~20,000 rooms).
WUYE_IMPORT_MAX_ROWS = int(os.environ.get("WUYE_IMPORT_MAX_ROWS", "50000"))
# What an import reads at most, whatever the file claims (an .xlsx of 300 KB can unpack to gigabytes):
# rows read beyond WUYE_IMPORT_MAX_ROWS (blank rows count too), columns, unpacked bytes, zip members
# and seconds. A 50,000-row sheet of 13 columns unpacks to about 36 MB.
WUYE_IMPORT_BLANK_ROWS = int(os.environ.get("WUYE_IMPORT_BLANK_ROWS", "1000"))
WUYE_IMPORT_MAX_COLUMNS = int(os.environ.get("WUYE_IMPORT_MAX_COLUMNS", "200"))
WUYE_IMPORT_MAX_UNPACKED_BYTES = int(
    os.environ.get("WUYE_IMPORT_MAX_UNPACKED_BYTES", str(100 * 1024 * 1024))
)
WUYE_IMPORT_MAX_PARTS = 1000
WUYE_IMPORT_MAX_SECONDS = int(os.environ.get("WUYE_IMPORT_MAX_SECONDS", "120"))
# Results the search box returns per request.
WUYE_SEARCH_LIMIT = 20
# Called (after commit) with run_id= when a billing run finishes: new bills consume prepaid balance.
# The credit files of the project are recomputed in the background (wuye.credit).
# Called with run_id=, user_id= once a billing run is queued: writes its bills in the background.
WUYE_BILLING_RUN_QUEUED = ["wuye.billing.tasks.after_run_queued"]
# The late-fee computation billing asks for (a waiver, the 减免 page): the ledger's, which knows the
# allocations (billing sits below the ledger and never imports it).
WUYE_LATE_FEES = "wuye.ledger.selectors.late_fees.late_fees_for"
WUYE_AFTER_BILLING_RUN = [
    "wuye.ledger.tasks.after_billing_run",
    "wuye.credit.tasks.after_billing_run",
    "wuye.reports.tasks.after_billing_run",  # the bills reach the report summaries
]
# Called (after commit) with account_id= when a payment is taken or reversed: the arrears case of
# that account is re-evaluated at once, so nobody is chased after paying (SPEC §5 step 2).
# Then the household's credit file is recomputed (wuye.credit), and alerts queues the thank-you
# message where the household's segment strategy says so.
WUYE_AFTER_PAYMENT = [
    "wuye.dunning.daily_run.after_payment",
    "wuye.credit.tasks.after_payment",
    "wuye.alerts.tasks.after_payment",
]
# The same hooks in their batch form, called once (after commit) with account_ids= when the ledger
# posts many payments at once (ledger.services.batch_payments: a bank statement's automatic matches).
# Every hook of WUYE_AFTER_PAYMENT needs its batch form here.
WUYE_AFTER_PAYMENTS = [
    "wuye.dunning.daily_run.after_payments",
    "wuye.credit.tasks.after_payments",
    "wuye.alerts.tasks.after_payments",
]
# Called (after commit) with account_id= and case_id= when a contact record is saved: the
# household's credit file (promises, refusals, unreached streak) is recomputed (wuye.credit, queued).
WUYE_AFTER_CONTACT = ["wuye.credit.tasks.after_contact"]
# What each room owes and its open case, for search results and the building browser: a dotted path
# to a function (project_id=, room_ids=, user=) → {room_id: RoomArrears}; empty shows no arrears.
WUYE_ROOM_ARREARS = "wuye.dunning.room_arrears.room_arrears"
# The search box shows at most WUYE_SEARCH_LIMIT hits and says when there are more; the full results
# page (registry:search_all) shows up to this many.
WUYE_SEARCH_PAGE_LIMIT = 200
# Panels (decision 0016): a lower app's page shows templates the apps above it list here, in order,
# each included with the page's context (wuye.core.hooks.panels); a lower app's template never names
# a higher app (tests/core/test_layering_templates.py). A panel gets its data from its own app.
# The household page (一户一档, registry): below the title (context: room, current_role) …
WUYE_HOUSEHOLD_HEADER_PANELS = ["ledger/_household_window_link.html"]
# … and the cards below the registry's own, with ``room`` in the context.
WUYE_HOUSEHOLD_PANELS = [
    "ledger/_household_ledger.html",
    "dunning/_household_include.html",
    "credit/_household_credit.html",
    "alerts/_household_courtesy.html",
    "owner/_household_owner.html",
    "billing/_household_adjust.html",
]
# Households not chased for now (wuye.dunning.holds): f(project_id=, account_ids=) -> {account id:
# reason}. A bank withholding batch in flight (wuye.banking): no call, no message, no escalation for
# those bills until the bank's result is back.
WUYE_CHASE_HOLDS = ["wuye.banking.withholding_batches.chase_holds"]
# The case page (催缴案件, dunning), context ``case``: below the title (the credit segment) …
WUYE_CASE_HEADER_PANELS = ["credit/_case_segment.html"]
# … cards below the summary and people …
WUYE_CASE_PANELS = ["banking/_case_bank.html"]
# … and above the case's timeline (the success story, 经验库).
WUYE_CASE_FOOTER_PANELS = ["alerts/_success_story.html"]
# What a steward reads before contacting the household (话术建议): on the case page above the contact
# form (with ``case_page`` true: open, with the letters and SMS), on today's card above the phones.
WUYE_CONTACT_PANELS = ["messaging/_talking_points.html"]
# Today's card (今日催缴), context ``case`` and ``done``: below the amount owed (why it ranks here:
# the ``rank_*`` attributes the WUYE_CASE_RANKER hook set).
WUYE_TASK_PANELS = ["scoring/_reasons.html"]
# Inside the talking points (messaging), context ``case`` and ``points``: the success stories of the
# refusal reasons among them (alerts sits above messaging).
WUYE_TALKING_POINT_PANELS = ["alerts/_points_stories.html"]
# Called by the dunning run with (project_id=, account_ids=) before it sets the cases' tasks; each
# returns {account_id: dunning.rules.StrategyAdjustment} — the household's segment strategy applied
# on top of the class rules (wuye.credit). Contact windows and caps still bind (LAW.md §8).
WUYE_CASE_STRATEGY = ["wuye.credit.strategy.adjustments"]
# Reports read the summary tables (wuye.reports.summary_refresh, summary_rates, summary_arrears) when they are built and at most this many
# ledger rows behind (they catch up first); otherwise, or when switched off, they compute live.
WUYE_REPORT_SUMMARIES = os.environ.get("WUYE_REPORT_SUMMARIES", "1") == "1"
WUYE_REPORT_CATCH_UP_ROWS = int(os.environ.get("WUYE_REPORT_CATCH_UP_ROWS", "200000"))
# Blocks upper apps add to the dunning daily report (dotted paths of f(project_ids=, period=)).
WUYE_DAILY_REPORT_SECTIONS = ["wuye.alerts.report.daily_section"]
# Counters of messages other apps send a household (dotted paths of f(account_id=, day_start=,
# week_start=) -> (today, this week)): the SMS caps count them too (LAW.md §8).
WUYE_SMS_COUNTERS = ["wuye.alerts.courtesy.sent_counts_for_account"]
# Called with project= when payment notices are printed: text on paying by bank transfer (the receiving
# account, and "{room}" for the reference to write in the remark) (wuye.banking).
WUYE_NOTICE_BANK_DETAILS = ["wuye.banking.selectors.notice_bank_details"]
# Online payment (wuye.payments; docs/operations/online-payment.md). Merchant keys only from the
# environment (inline PEM text or a file path). A platform without WUYE_<P>_MERCHANT_ID talks to the
# local fake (python -m wuye payments_fake, on WUYE_PAYMENTS_FAKE_URL), whose test keys it reads from
# WUYE_PAYMENTS_FAKE_CONFIG (written by the fake at start-up).
# Panels apps above the ledger add below the fee window's payment form (templates included with the
# window's context: room, account, bills, chosen; decision 0016).
WUYE_WINDOW_PANELS = ["payments/_window_micropay.html"]
WUYE_PAYMENTS = {
    "order_minutes": int(os.environ.get("WUYE_PAYMENT_ORDER_MINUTES", "15")),
    # Where the platforms post their callbacks (must be HTTPS and public with a real merchant).
    "notify_base_url": os.environ.get("WUYE_PAYMENT_NOTIFY_BASE_URL", "http://127.0.0.1:8000"),
    "fake_url": os.environ.get("WUYE_PAYMENTS_FAKE_URL", "http://127.0.0.1:8765"),
    "fake_config_file": os.environ.get(
        "WUYE_PAYMENTS_FAKE_CONFIG", str(VAR_DIR / "payments_fake.json")
    ),
    "wechat": {
        "merchant_id": os.environ.get("WUYE_WECHATPAY_MERCHANT_ID", ""),
        "app_id": os.environ.get("WUYE_WECHATPAY_APP_ID", ""),
        "apiv3_key": os.environ.get("WUYE_WECHATPAY_APIV3_KEY", ""),
        "cert_serial_no": os.environ.get("WUYE_WECHATPAY_CERT_SERIAL_NO", ""),
        "private_key": os.environ.get("WUYE_WECHATPAY_PRIVATE_KEY", ""),
        "private_key_file": os.environ.get("WUYE_WECHATPAY_PRIVATE_KEY_FILE", ""),
        "public_key": os.environ.get("WUYE_WECHATPAY_PUBLIC_KEY", ""),
        "public_key_file": os.environ.get("WUYE_WECHATPAY_PUBLIC_KEY_FILE", ""),
        "public_key_id": os.environ.get("WUYE_WECHATPAY_PUBLIC_KEY_ID", ""),
        # How the platform's signatures are checked: public_key (微信支付公钥 + PUB_KEY_ID) or
        # platform_cert (平台证书, downloaded into cert_dir). docs/operations/online-payment.md
        "verify_mode": os.environ.get("WUYE_WECHATPAY_VERIFY_MODE", "public_key"),
        "cert_dir": os.environ.get("WUYE_WECHATPAY_CERT_DIR", str(VAR_DIR / "wechatpay_certs")),
        "base_url": os.environ.get("WUYE_WECHATPAY_BASE_URL", "https://api.mch.weixin.qq.com"),
        # JSAPI inside WeChat: the official account (AppID above) and its AppSecret, for the
        # snsapi_base OAuth step that gives the payer's openid. Without a secret, H5 is used.
        "app_secret": os.environ.get("WUYE_WECHAT_APP_SECRET", ""),
        "app_secret_file": os.environ.get("WUYE_WECHAT_APP_SECRET_FILE", ""),
        "oauth_url": os.environ.get(
            "WUYE_WECHAT_OAUTH_URL", "https://open.weixin.qq.com/connect/oauth2/authorize"
        ),
        "sns_url": os.environ.get(
            "WUYE_WECHAT_SNS_URL", "https://api.weixin.qq.com/sns/oauth2/access_token"
        ),
    },
    "alipay": {
        "merchant_id": os.environ.get("WUYE_ALIPAY_APP_ID", ""),
        "app_id": os.environ.get("WUYE_ALIPAY_APP_ID", ""),
        "private_key": os.environ.get("WUYE_ALIPAY_PRIVATE_KEY", ""),
        "private_key_file": os.environ.get("WUYE_ALIPAY_PRIVATE_KEY_FILE", ""),
        "public_key": os.environ.get("WUYE_ALIPAY_PUBLIC_KEY", ""),
        "public_key_file": os.environ.get("WUYE_ALIPAY_PUBLIC_KEY_FILE", ""),
        "base_url": os.environ.get("WUYE_ALIPAY_BASE_URL", "https://openapi.alipay.com/gateway.do"),
    },
}
# --- The owner page (业主自助缴费, wuye.owner; docs/operations/owner-page.md) -----------------------
# The address owners reach the site at: links printed on notices and sent by SMS start with it.
WUYE_SITE_URL = os.environ.get("WUYE_SITE_URL", "http://127.0.0.1:8000")
# A household's link is refused this many days after it was printed or sent (revoking stops it at once).
WUYE_OWNER_LINK_DAYS = int(os.environ.get("WUYE_OWNER_LINK_DAYS", "60"))
# One-time SMS codes: minutes valid, wrong tries allowed, codes per household and per address an hour.
WUYE_OWNER_CODE_MINUTES = 5
WUYE_OWNER_CODE_TRIES = 5
WUYE_OWNER_CODES_PER_HOUR = 5
WUYE_OWNER_CODES_PER_IP_HOUR = 20
# Wrong tries of a household in 24 hours, whichever code; then even the right code waits a day.
WUYE_OWNER_CODE_TRIES_PER_DAY = 20
# Tickets (对账单有疑问 / 报修) a household opens from the owner page in 24 hours.
WUYE_OWNER_TICKETS_PER_DAY = 5
# Payment orders a household makes from the owner page or API in an hour (each asks the platform).
WUYE_OWNER_ORDERS_PER_HOUR = 20
# How long a verified owner sees the bill list, history and receipts before a new code is asked.
WUYE_OWNER_VERIFIED_MINUTES = 30
# Called with accounts= when payment notices are printed: {account_id: the household's link}, drawn
# as a QR code (wuye.owner). Empty: no QR code.
WUYE_NOTICE_PAY_LINK = ["wuye.owner.links.notice_links"]
# Called with account_id= for the {缴费链接} placeholder of message templates (wuye.owner).
WUYE_SMS_PAY_LINK = ["wuye.owner.links.sms_link"]
# Called (after commit) with project_id= and on= when a daily dunning run finishes: the open cases
# are rescored for today's list (wuye.scoring).
WUYE_AFTER_DUNNING_RUN = ["wuye.scoring.tasks.after_dunning_run"]
# Notices the dashboard shows above its figures (dotted paths of f(user=, project_ids=) -> list of
# {"text", "url"}): the schedule's failed or missed steps (wuye.ops, above reports).
WUYE_DASHBOARD_NOTICES = ["wuye.ops.selectors.dashboard_notices"]
# Called by today's list with (cases, project_id=, on=) to set each case's rank_key and reasons;
# empty: the list is ordered by overdue amount × aging.
WUYE_CASE_RANKER = ["wuye.scoring.ranking.rank"]

# --- HTTPS and security headers (docs/operations/settings.md) ---------------------------------------
# WUYE_HTTPS=1: the site is reached only over HTTPS. Cookies are sent over HTTPS only, plain HTTP is
# redirected, browsers are told to use HTTPS for a year (HSTS); `python -m wuye check --deploy` is clean.
# WUYE_BEHIND_PROXY=1: a reverse proxy (nginx) terminates TLS and sets X-Forwarded-Proto and
# X-Forwarded-For; only set it when the proxy overwrites those headers, or clients could forge them.
WUYE_HTTPS = env_bool("WUYE_HTTPS", False)
WUYE_BEHIND_PROXY = env_bool("WUYE_BEHIND_PROXY", False)
if WUYE_HTTPS:
    SECURE_SSL_REDIRECT = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("WUYE_HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("WUYE_HSTS_INCLUDE_SUBDOMAINS", True)
    # The preload directive only permits submitting the domain to browsers' preload list; nothing
    # happens unless someone submits it. WUYE_HSTS_PRELOAD=0 leaves it out (check --deploy then warns W021).
    SECURE_HSTS_PRELOAD = env_bool("WUYE_HSTS_PRELOAD", True)
if WUYE_BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    USE_X_FORWARDED_HOST = env_bool("WUYE_USE_X_FORWARDED_HOST", False)
    # django-axes counts failures per client address: the one the proxy saw, not the proxy's own.
    AXES_IPWARE_PROXY_COUNT = int(os.environ.get("WUYE_PROXY_COUNT", "1"))
    AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy (django-csp). Scripts only from our own static files: no inline <script>,
# no onclick=/onchange= attributes, no eval (templates use data attributes handled by
# static/wuye/base.js; tests/core/test_security_headers.py walks every template for inline scripts).
# JSON data blocks ({{ value|json_script:"id" }}) are fine: the browser never executes them.
# Inline style="" attributes and <style> blocks are allowed (low risk, used across the templates).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
if WUYE_HTTPS:
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["upgrade-insecure-requests"] = True

# Figures written into each backup's manifest and compared after a restore (wuye.core.backup):
# dotted paths of functions returning JSON-able dicts.
WUYE_BACKUP_FIGURES = ["wuye.ledger.backup.figures"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("WUYE_LOG_LEVEL", "WARNING")},
}
