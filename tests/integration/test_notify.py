"""Notifications against real servers on 127.0.0.1: webhook (HTTP), email (aiosmtpd, with and
without STARTTLS), AWS SNS (SigV4 checked independently by botocore), and the outbox that makes
sure nothing is lost and nothing is sent twice. Secrets are recognisable fakes that must never
appear in any output or table.
"""
import email
import email.policy
import json
import os
import socket
import sqlite3
import subprocess
import time
import urllib.parse

import artifacts
import fake_secrets
from awssig import verify_sigv4
from etl import JHU, NYT, TempDirTest, cli, run_json
from httpfixture import HttpFixture, Reply

# The suite's fake secrets (fake_secrets.py): besides the checks here, secrets.scan looks for them
# in every output, database and capture (webhook and SNS bodies, mail) of this test.
SECRETS = {name: fake_secrets.ENV[name] for name in
           ("HOOK_TOKEN", "SMTP_PASSWORD", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def toml_list(items):
    return "[" + ", ".join(json.dumps(i) for i in items) + "]"


class NotifyTest(TempDirTest):
    """Runs with a configuration of [[notify]] entries; checks secrets never leak."""

    def setUp(self):
        super().setUp()
        self.outputs = []  # every stdout/stderr seen, checked for secrets at the end
        self.addCleanup(self.assert_no_secret_leaked)

    def configure(self, *entries, retries=2, backoff_ms=10):
        text = f"[notifications]\nretries = {retries}\nbackoff_ms = {backoff_ms}\n"
        text += f'dashboard_url = "http://127.0.0.1:8080/"\n'
        for e in entries:
            text += "\n[[notify]]\n" + "".join(f"{k} = {v if k in ('headers', 'on', 'to') else json.dumps(v)}\n"
                                                for k, v in e.items())
        self.config = self.write("covid-etl.toml", text)

    def run_etl(self, nyt=NYT, jhu=JHU, env=None):
        code, summary, err = run_json(self.db, nyt, jhu, "--config", self.config, env={**SECRETS, **(env or {})})
        self.outputs += [json.dumps(summary), err]
        return code, summary

    def notify(self, *args):
        p = cli("notify", "--config", self.config, "--db", self.db, *args, env=SECRETS)
        self.outputs += [p.stdout, p.stderr]
        return p

    def outbox(self):
        return json.loads(self.notify("--list", "--all", "--json").stdout)

    def assert_no_secret_leaked(self):
        dump = ""
        if os.path.exists(self.db):
            with sqlite3.connect(self.db) as c:
                dump = "\n".join(c.iterdump())
        for name, value in SECRETS.items():
            for text in self.outputs + [dump]:
                self.assertNotIn(value, text or "", f"{name} leaked")


class Webhook(NotifyTest):
    def setUp(self):
        super().setUp()
        self.server = HttpFixture().start()
        self.addCleanup(self.server.stop)

    def hook(self, **extra):
        return {"type": "webhook", "url": self.server.url("/hook"),
                "headers": '{ Authorization = "Bearer ${HOOK_TOKEN}", X-Source = "covid-etl" }', **extra}

    def posts(self):
        return [json.loads(r.body) for r in self.server.requests_for("/hook")]

    def test_success_is_posted_once_with_the_summary_and_text(self):
        self.server.plan("/hook", Reply(200))
        self.configure(self.hook())
        code, s = self.run_etl()
        self.assertEqual(code, 0)
        [doc] = self.posts()
        self.assertEqual((doc["event"], doc["status"], doc["inserted"], doc["run_id"]), ("success", "ok", 820, s["run_id"]))
        for key in ("updated", "unchanged", "missing", "warnings", "warning_samples", "errors", "error_count",
                    "first_date", "last_date", "duration_ms"):
            self.assertIn(key, doc)
        self.assertIn("820 new dates, 0 revised", doc["text"])
        self.assertIn("and 770 more", doc["text"])  # 50 table lines, then the rest counted
        self.assertIn("2020-01-21", doc["text"])
        self.assertIn("Dashboard: http://127.0.0.1:8080/", doc["text"])
        headers = self.server.requests_for("/hook")[0].headers
        self.assertEqual(headers["authorization"], "Bearer " + SECRETS["HOOK_TOKEN"])
        self.assertEqual(headers["x-source"], "covid-etl")
        self.assertTrue(headers["content-type"].startswith("application/json"))
        self.assertEqual(s["notifications"]["delivered"], 1)

    def test_revised_rows_show_old_and_new_values(self):
        self.server.plan("/hook", Reply(200))
        self.configure(self.hook())
        self.run_etl()
        with open(NYT) as f:
            rows = f.read().splitlines()
        date, cases, deaths = rows[300].split(",")
        rows[300] = f"{date},{int(cases) + 5},{deaths}"
        code, s = self.run_etl(nyt=self.write("revised.csv", "\n".join(rows) + "\n"))
        self.assertEqual((code, s["updated"]), (0, 1))
        text = self.posts()[-1]["text"]
        self.assertIn("0 new dates, 1 revised", text)
        line = next(l for l in text.splitlines() if l.startswith(date))
        self.assertIn(f"{cases} -> {int(cases) + 5}", line)
        self.assertIn("revised", line)

    def test_500_twice_then_200_delivers_exactly_once(self):
        self.server.plan("/hook", Reply(500), Reply(500), Reply(200))
        self.configure(self.hook())
        code, s = self.run_etl()
        self.assertEqual(code, 0)
        self.assertEqual(len(self.server.requests_for("/hook")), 3)
        [m] = self.outbox()
        self.assertEqual((m["status"], m["attempts"]), ("delivered", 3))
        self.run_etl()  # nothing new: "unchanged" is not subscribed, and nothing is resent
        self.assertEqual(len(self.server.requests_for("/hook")), 3)

    def test_a_server_that_is_down_keeps_the_message_for_the_next_run(self):
        port = free_port()
        self.configure(self.hook(url=f"http://127.0.0.1:{port}/hook"))
        code, s = self.run_etl()
        self.assertEqual((code, s["status"], s["inserted"]), (0, "ok", 820))  # the load stands
        self.assertEqual(s["notifications"]["pending"], 1)
        [m] = self.outbox()
        self.assertEqual(m["status"], "pending")
        self.assertIn("127.0.0.1", m["last_error"])
        listed = self.notify("--list")
        self.assertEqual(listed.returncode, 0)
        self.assertIn("pending", listed.stdout)
        # The receiver comes back: the next run delivers the old message and its own.
        self.server.plan("/hook", Reply(200))
        self.configure(self.hook(on='["success", "unchanged", "failure"]'))
        code, s = self.run_etl()
        self.assertEqual(s["notifications"]["delivered"], 2)
        self.assertEqual([d["event"] for d in self.posts()], ["success", "unchanged"])
        self.assertEqual([m["status"] for m in self.outbox()], ["delivered", "delivered"])
        self.assertEqual(self.notify("--list", "--json").stdout.strip(), "[]")

    def test_notify_flush_delivers_what_is_pending(self):
        port = free_port()
        self.configure(self.hook(url=f"http://127.0.0.1:{port}/hook"))
        self.run_etl()
        self.server.plan("/hook", Reply(200))
        self.configure(self.hook())
        p = self.notify("--flush")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("1 delivered", p.stdout)
        self.assertEqual(len(self.posts()), 1)
        self.assertEqual(self.notify("--flush").stdout.split(",")[0], "0 delivered")

    def test_a_4xx_answer_is_not_retried_and_marked_failed(self):
        self.server.plan("/hook", Reply(404))
        self.configure(self.hook())
        code, s = self.run_etl()
        self.assertEqual(code, 0)
        self.assertEqual(len(self.server.requests_for("/hook")), 1)
        [m] = self.outbox()
        self.assertEqual((m["status"], m["attempts"]), ("failed", 1))
        self.assertIn("HTTP 404", m["last_error"])
        self.assertNotIn("/hook", m["last_error"])  # webhook paths often hold tokens

    def test_a_failed_run_is_notified_with_its_errors(self):
        self.server.plan("/hook", Reply(200))
        self.configure(self.hook())
        bad = self.write("bad.csv", "date,cases,deaths\n2020-01-21,1,0\n2020-01-22,12x,0\n")
        code, s = self.run_etl(nyt=bad)
        self.assertEqual(code, 2)
        [doc] = self.posts()
        self.assertEqual((doc["event"], doc["status"], doc["stage"]), ("failure", "failed", "validate"))
        self.assertIn(f"{bad}:3:12: cases: '12x' is not a whole number", doc["text"])
        self.assertIn("Nothing was loaded", doc["text"])
        self.assertIn("validate", doc["subject"])

    def test_a_run_that_cannot_be_recorded_is_still_notified(self):
        self.server.plan("/hook", Reply(200))
        self.configure(self.hook())
        self.assertEqual(self.run_etl()[0], 0)
        with open(self.config, "a") as f:
            f.write("\n[load]\nlock_timeout_ms = 200\n")
        holder = sqlite3.connect(self.db, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            code, s = self.run_etl()
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        self.assertEqual(code, 4)
        docs = self.posts()
        self.assertEqual(docs[-1]["event"], "failure")
        self.assertIn("locked by another run", docs[-1]["text"])

    def test_notify_test_reports_each_channel(self):
        self.server.plan("/hook", Reply(200))
        self.configure(self.hook(name="chat"), {"type": "webhook", "name": "down",
                                                "url": f"http://127.0.0.1:{free_port()}/x"}, retries=0)
        p = self.notify("--test", "--json")
        self.assertEqual(p.returncode, 1)
        results = {r["channel"]: r for r in json.loads(p.stdout)}
        self.assertTrue(results["chat"]["ok"])
        self.assertFalse(results["down"]["ok"])
        self.assertEqual(self.posts()[0]["event"], "test")


class SmtpServer:
    """aiosmtpd on 127.0.0.1, optionally with STARTTLS required and AUTH."""

    def __init__(self, tls_context=None, password=None):
        import logging
        logging.getLogger("mail.log").setLevel(logging.CRITICAL)  # refused handshakes are expected
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult

        self.envelopes, self.logins = [], []
        outer = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                outer.envelopes.append(envelope)
                artifacts.capture("smtp", envelope.original_content, "message.eml")  # for the secrets scan
                return "250 OK"

        def authenticator(server, session, envelope, mechanism, auth_data):
            outer.logins.append(auth_data.login.decode())
            return AuthResult(success=password is not None and auth_data.password.decode() == password)

        kwargs = {}
        if tls_context is not None:
            kwargs = dict(tls_context=tls_context, require_starttls=True)
        if password is not None:
            kwargs.update(authenticator=authenticator, auth_require_tls=tls_context is not None)
        self.port = free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port, **kwargs)
        self.controller.start()

    def stop(self):
        self.controller.stop()


class Email(NotifyTest):
    def email_entry(self, port, **extra):
        return {"type": "email", "url": f"smtp://127.0.0.1:{port}", "from": "covid-etl <etl@example.org>",
                "to": toml_list(["ana@example.org", "Bo <bo@example.org>"]), **extra}

    def test_a_plain_text_message_with_proper_headers(self):
        server = SmtpServer()
        self.addCleanup(server.stop)
        self.configure(self.email_entry(server.port, tls="none"))
        code, s = self.run_etl()
        self.assertEqual((code, s["notifications"]["delivered"]), (0, 1), s["notifications"])
        [env] = server.envelopes
        self.assertEqual(env.mail_from, "etl@example.org")
        self.assertEqual(env.rcpt_tos, ["ana@example.org", "bo@example.org"])
        raw = env.original_content
        self.assertNotIn(b"\n", raw.replace(b"\r\n", b""))  # CRLF line ends only
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        for header in ("Date", "Message-ID", "Subject", "MIME-Version", "From", "To"):
            self.assertIsNotNone(msg[header], header)
        self.assertEqual(msg["MIME-Version"], "1.0")
        self.assertEqual(msg.get_content_type(), "text/plain")
        self.assertEqual(msg.get_content_charset(), "utf-8")
        self.assertIn("820 new dates, 0 revised", str(msg["Subject"]))
        self.assertIsNotNone(email.utils.parsedate_to_datetime(msg["Date"]))
        body = msg.get_content()
        self.assertIn("date        cases", body)
        self.assertIn("2020-01-21  1", body)
        self.assertIn("and 770 more", body)

    def test_starttls_is_required_unless_turned_off(self):
        server = SmtpServer()  # offers no STARTTLS
        self.addCleanup(server.stop)
        self.configure(self.email_entry(server.port, password_env="SMTP_PASSWORD", username_env="HOOK_TOKEN"),
                       retries=0)
        code, s = self.run_etl()
        self.assertEqual(code, 0)
        self.assertEqual(server.envelopes, [])
        [m] = self.outbox()
        self.assertNotEqual(m["status"], "delivered")
        self.assertIn("SSL", m["last_error"].upper().replace("TLS", "SSL"))

    def test_starttls_with_authentication_against_a_verified_certificate(self):
        import ssl
        cert, key = self.path("cert.pem"), self.path("key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                        "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                       check=True, capture_output=True)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        server = SmtpServer(tls_context=context, password=SECRETS["SMTP_PASSWORD"])
        self.addCleanup(server.stop)
        entry = self.email_entry(server.port, username_env="SMTP_USER", password_env="SMTP_PASSWORD")
        self.configure(dict(entry, ca_file=cert))
        code, s = self.run_etl(env={"SMTP_USER": "etl-user"})
        self.assertEqual((code, s["notifications"]["delivered"]), (0, 1), s["notifications"])
        self.assertEqual(server.logins, ["etl-user"])
        self.assertEqual(len(server.envelopes), 1)
        # Without the CA the certificate cannot be verified: nothing is sent.
        self.configure(entry, retries=0)
        bad = self.write("bad.csv", "date,cases,deaths\n")
        self.run_etl(nyt=bad)
        self.assertEqual(len(server.envelopes), 1)


class Sns(NotifyTest):
    REGION = "eu-west-3"
    TOPIC = "arn:aws:sns:eu-west-3:123456789012:covid-updates"

    def setUp(self):
        super().setUp()
        self.server = HttpFixture().start()
        self.addCleanup(self.server.stop)
        self.checks = []

        def publish(request):
            ok, reason = verify_sigv4(request, SECRETS["AWS_ACCESS_KEY_ID"], SECRETS["AWS_SECRET_ACCESS_KEY"],
                                      self.REGION, self.server.url("/"), "sns")
            self.checks.append(reason)
            if not ok:
                return Reply(403, b"<ErrorResponse><Error><Code>SignatureDoesNotMatch</Code></Error></ErrorResponse>")
            return Reply(200, b"<PublishResponse><PublishResult><MessageId>m-1</MessageId></PublishResult></PublishResponse>")

        self.server.plan("/", publish)
        self.configure({"type": "sns", "topic_arn": self.TOPIC, "region": self.REGION,
                        "endpoint": self.server.url("/")}, retries=0)

    def params(self, i=0):
        return dict(urllib.parse.parse_qsl(self.server.requests_for("/")[i].body.decode(), strict_parsing=True))

    def test_publish_is_signed_and_carries_the_message(self):
        code, s = self.run_etl()
        self.assertEqual(code, 0)
        self.assertEqual(self.checks, ["ok"])
        self.assertEqual(s["notifications"]["delivered"], 1)
        p = self.params()
        self.assertEqual((p["Action"], p["TopicArn"], p["Version"]), ("Publish", self.TOPIC, "2010-03-31"))
        self.assertLess(len(p["Subject"]), 100)
        self.assertIn("820 new dates", p["Subject"])
        self.assertIn("820 new dates, 0 revised", p["Message"])
        req = self.server.requests_for("/")[0]
        self.assertEqual(req.headers["x-amz-security-token"], SECRETS["AWS_SESSION_TOKEN"])
        self.assertIn("x-amz-security-token", req.headers["authorization"])  # signed too

    def test_a_wrong_secret_fails_the_independent_check(self):
        code, s = self.run_etl(env={"AWS_SECRET_ACCESS_KEY": "not-the-right-secret"})
        self.assertEqual(code, 0)  # the load stands; the notification does not
        self.assertEqual(self.checks, ["signature mismatch"])
        [m] = self.outbox()
        self.assertEqual(m["status"], "failed")
        self.assertIn("HTTP 403", m["last_error"])

    def test_long_subjects_are_cut_below_100_characters(self):
        absent = self.path("x" * 120 + ".csv")  # the failure names it: a long subject
        self.configure({"type": "sns", "topic_arn": self.TOPIC, "region": self.REGION, "endpoint": self.server.url("/"),
                        "on": '["failure"]'}, retries=0)
        code, s = self.run_etl(nyt=absent)
        self.assertEqual(code, 3)
        self.assertEqual(self.checks, ["ok"])
        p = self.params()
        self.assertLess(len(p["Subject"]), 100)
        self.assertTrue(p["Subject"].endswith("..."), p["Subject"])
        self.assertIn(absent, p["Message"])


class Configuration(NotifyTest):
    def test_bad_notify_entries_are_usage_errors(self):
        cases = {
            '[[notify]]\ntype = "pager"\n': "unknown notify type 'pager'",
            '[[notify]]\ntype = "webhook"\n': "needs 'url'",
            '[[notify]]\ntype = "email"\nurl = "http://x"\nfrom = "a@b"\nto = ["c@d"]\n': "smtp:// or smtps://",
            '[[notify]]\ntype = "log"\non = ["sometimes"]\n': "'notify.on' takes",
            '[[notify]]\ntype = "log"\nurl = "x"\n': "unknown key 'notify.url'",
            '[[notify]]\ntype = "log"\n[[notify]]\ntype = "log"\n': "named 'log'",
            '[notifications]\nretries = -1\n': "between 0 and 20",
        }
        for text, message in cases.items():
            with self.subTest(text=text):
                self.config = self.write("bad.toml", text)
                p = cli("run", "--config", self.config, "--db", self.db, "--nyt", NYT, "--jhu", JHU)
                self.assertEqual(p.returncode, 64, p.stderr)
                self.assertIn(message, p.stderr)

    def test_the_default_is_a_log_line(self):
        self.config = self.write("empty.toml", "")
        code, s = self.run_etl()
        self.assertEqual(code, 0)
        self.assertIn("covid-etl notify: covid-etl: 820 new dates", self.outputs[-1])
        self.assertEqual([(m["channel"], m["status"]) for m in self.outbox()], [("log", "delivered")])
