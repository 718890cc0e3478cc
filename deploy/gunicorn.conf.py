"""gunicorn settings for the BFF; each can be overridden from the environment."""
import os

bind = os.environ.get("BFF_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "8"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
keepalive = 5
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "0"))
accesslog = None  # the app writes its own JSON access line with the request id
errorlog = "-"
# gunicorn 27 opens a control socket in ~/.gunicorn by default, shared by every instance of the
# user (make run, a benchmark, production); the BFF needs none.
control_socket_disable = True
