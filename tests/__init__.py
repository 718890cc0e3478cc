import os

# The tests (and the e2e stack they start) are the sandbox; an unset YIQIAO_ENV means production.
os.environ.setdefault("YIQIAO_ENV", "development")
