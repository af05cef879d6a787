"""The fake secrets of the whole test suite: recognisable values that must never appear in
anything covid-etl writes (its output and logs, the databases, the notifications).

Every integration test runs with all of them in its environment (tests/CMakeLists.txt reads
ENV below, one entry per line, and sets it on each test), and the tests that need a secret use
these values: the SMTP password (test_notify), the AWS keys (test_notify's SNS, test_dynamodb),
the webhook token (test_notify), the trigger token (test_daemon) and the PostgreSQL password
(pgserver: every server's `covid` role); a source URL's password and token (test_http), a
PostgreSQL password with '/' and '@' written unencoded in the URL (test_postgres), and the body of
an internal service's answer (test_http: error texts never quote a body). secrets.scan (secret_scan.py) then looks for each of
them, also base64- and URL-encoded, in every artifact the tests kept.

The values hold '/', '+' and '=' so that their URL-encoded and JSON forms differ from the raw
ones; none holds ';', '"' or a quote (CMake lists, TOML strings, SQL literals).
"""

# name -> value. Keep one entry per line in this form: CMake parses it.
ENV = {
    "SMTP_PASSWORD": "SMTP-PASS-f4k3-9c1e",
    "HOOK_TOKEN": "hook-token-f4k3-7f3a91",
    "AWS_ACCESS_KEY_ID": "AKIAFAKEF4K3TEST9C1E",
    "AWS_SECRET_ACCESS_KEY": "aws-secret-f4k3/Zq8+Lm2Wx9/Pt4Rb0",
    "AWS_SESSION_TOKEN": "aws-session-f4k3/token+8d3b5e==",
    "COVID_ETL_TRIGGER_TOKEN": "trigger-token-f4k3-5a7e2c",
    "COVID_ETL_TEST_PG_PASSWORD": "pg-pass-f4k3/2b6d+e0",
    "SOURCE_URL_PASSWORD": "src-pass-f4k3/9d2c+a1",
    "SOURCE_URL_TOKEN": "src-token-f4k3-3e8b1d",
    "PG_URL_PASSWORD": "pgurl-f4k3/7c@e2b-41",
    "INTERNAL_BODY_MARKER": "internal-body-f4k3-6b0d4e",
}

SMTP_PASSWORD = ENV["SMTP_PASSWORD"]
HOOK_TOKEN = ENV["HOOK_TOKEN"]
AWS_ACCESS_KEY_ID = ENV["AWS_ACCESS_KEY_ID"]
AWS_SECRET_ACCESS_KEY = ENV["AWS_SECRET_ACCESS_KEY"]
AWS_SESSION_TOKEN = ENV["AWS_SESSION_TOKEN"]
TRIGGER_TOKEN = ENV["COVID_ETL_TRIGGER_TOKEN"]
PG_PASSWORD = ENV["COVID_ETL_TEST_PG_PASSWORD"]
SOURCE_URL_PASSWORD = ENV["SOURCE_URL_PASSWORD"]  # user info of a source URL (test_http)
SOURCE_URL_TOKEN = ENV["SOURCE_URL_TOKEN"]        # ?token= of a source URL (test_http)
PG_URL_PASSWORD = ENV["PG_URL_PASSWORD"]          # written unencoded in a postgresql:// URL (test_postgres)
# Not a credential: what an internal service answers (test_http's redirect and error-body tests).
# It must never leave the process either: no error text quotes a response body.
INTERNAL_BODY_MARKER = ENV["INTERNAL_BODY_MARKER"]

AWS = {name: ENV[name] for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")}
