"""`covid-etl lambda` (and the binary run as `bootstrap`) against a local server that plays the
AWS Lambda Runtime API: invocations that succeed, one that fails, and an init error; with
COVID_ETL_PUBLISH_TO, the publish after each run (a folder written, a failed publish an error of
type covid-etl.PublishFailed).
"""
import json
import os
import queue
import shutil
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import artifacts
from etl import BIN, JHU, NYT, TempDirTest

API = "/2018-06-01/runtime"


class RuntimeApi:
    """Hands out queued invocations on GET .../invocation/next and records what is posted back."""

    def __init__(self):
        self.invocations = queue.Queue()
        self.posted = queue.Queue()  # (path, headers, json)
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                if self.path != API + "/invocation/next":
                    return self.reply(404, b"{}")
                request_id, event = outer.invocations.get()  # blocks, as the real API does
                self.reply(200, json.dumps(event).encode(), {
                    "Lambda-Runtime-Aws-Request-Id": request_id,
                    "Lambda-Runtime-Deadline-Ms": "4102444800000",
                    "Lambda-Runtime-Trace-Id": "Root=1-5759e988-bd862e3fe1be46a994272793",
                    "Lambda-Runtime-Invoked-Function-Arn": "arn:aws:lambda:us-east-1:123456789012:function:covid-etl"})

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                artifacts.capture("lambda", body, "POST" + self.path)  # for the secrets scan
                outer.posted.put((self.path, {k.lower(): v for k, v in self.headers.items()}, json.loads(body)))
                self.reply(202, b'{"status":"OK"}')

            def reply(self, status, body, headers=None):
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address):  # the runtime killed at the end
                pass

        self.server = Server(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.address = f"127.0.0.1:{self.server.server_address[1]}"

    def invoke(self, request_id, event=None):
        self.invocations.put((request_id, event or {"source": "aws.events", "detail-type": "Scheduled Event"}))
        return self.posted.get(timeout=60)

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class LambdaRuntime(TempDirTest):
    def setUp(self):
        super().setUp()
        self.api = RuntimeApi()
        self.addCleanup(self.api.stop)
        self.nyt = self.path("us.csv")
        shutil.copyfile(NYT, self.nyt)
        self.config = self.write("covid-etl.toml", f'db = "{self.db}"\n[sources]\nnyt = "{self.nyt}"\njhu = "{JHU}"\n')

    def start(self, args, env_extra=None):
        env = {k: v for k, v in os.environ.items() if not k.startswith("COVID_ETL_")}
        env.update({"AWS_LAMBDA_RUNTIME_API": self.api.address, "COVID_ETL_CONFIG": self.config, **(env_extra or {})})
        proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

        def stop():
            proc.kill()
            proc.communicate()
        self.addCleanup(stop)
        return proc

    def test_each_invocation_is_one_run_and_a_failed_run_is_an_error(self):
        self.start([BIN, "lambda"])
        path, _, doc = self.api.invoke("req-1")
        self.assertEqual(path, API + "/invocation/req-1/response")
        self.assertEqual((doc["status"], doc["inserted"], doc["last_date"]), ("ok", 820, "2022-04-19"))

        with open(self.nyt, "a") as f:  # upstream breaks: a bad row
            f.write("2022-04-20,80700000,98x\n")
        path, headers, doc = self.api.invoke("req-2")
        self.assertEqual(path, API + "/invocation/req-2/error")
        self.assertEqual(headers["lambda-runtime-function-error-type"], "covid-etl.ValidateFailed")
        self.assertEqual(doc["errorType"], "covid-etl.ValidateFailed")
        self.assertIn("nothing was loaded", doc["errorMessage"])
        self.assertEqual((doc["summary"]["status"], doc["summary"]["stage"]), ("failed", "validate"))
        self.assertEqual(doc["summary"]["errors"][0]["line"], 822)

        shutil.copyfile(NYT, self.nyt)  # fixed upstream: the next invocation works again
        path, _, doc = self.api.invoke("req-3")
        self.assertEqual((path, doc["status"]), (API + "/invocation/req-3/response", "unchanged"))

    def published_summary(self, site):
        with open(os.path.join(site, "data", "index.json"), encoding="utf-8") as f:
            index = json.load(f)
        with open(os.path.join(site, index["objects"]["summary"]), encoding="utf-8") as f:
            return json.load(f)

    def test_an_invocation_publishes_and_a_failed_publish_is_a_publish_error(self):
        """COVID_ETL_PUBLISH_TO (as the SAM template sets it): each invocation publishes after its
        run commits; a publish that fails is an error of type covid-etl.PublishFailed (not the
        kind of its error: ExtractFailed), its summary at stage publish, the data committed."""
        blocker = self.write("blocker", "a file where the site's folder should be\n")
        site = os.path.join(blocker, "site")
        self.start([BIN, "lambda"], {"COVID_ETL_PUBLISH_TO": site})
        path, headers, doc = self.api.invoke("req-p1")
        self.assertEqual(path, API + "/invocation/req-p1/error")
        self.assertEqual(headers["lambda-runtime-function-error-type"], "covid-etl.PublishFailed")
        self.assertEqual(doc["errorType"], "covid-etl.PublishFailed")
        self.assertIn(blocker, doc["errorMessage"])
        summary = doc["summary"]
        self.assertEqual((summary["status"], summary["stage"], summary["inserted"]), ("failed", "publish", 820))
        self.assertIn("error", summary["publish"])

        os.remove(blocker)  # writable again: the next invocation changes nothing, and publishes
        path, _, doc = self.api.invoke("req-p2")
        self.assertEqual((path, doc["status"]), (API + "/invocation/req-p2/response", "unchanged"))
        self.assertEqual(doc["publish"]["to"], site)
        self.assertEqual(doc["publish"]["written"], doc["publish"]["objects"])
        self.assertTrue(os.path.exists(os.path.join(site, "publish-manifest.json")))
        self.assertEqual(self.published_summary(site)["last_date"], "2022-04-19")  # the run's data

    def test_a_new_day_is_published_by_its_invocation(self):
        site = self.path("site")
        with open(NYT) as f:
            lines = f.readlines()
        with open(self.nyt, "w") as f:
            f.writelines(lines[:-10])
        self.start([BIN, "lambda"], {"COVID_ETL_PUBLISH_TO": "file://" + site})
        path, _, doc = self.api.invoke("req-d1")
        self.assertEqual((path, doc["status"], doc["last_date"]), (API + "/invocation/req-d1/response", "ok", "2022-04-09"))
        self.assertEqual(self.published_summary(site)["last_date"], "2022-04-09")
        shutil.copyfile(NYT, self.nyt)  # ten new days
        path, _, doc = self.api.invoke("req-d2")
        self.assertEqual((path, doc["status"], doc["inserted"]), (API + "/invocation/req-d2/response", "ok", 10))
        self.assertGreater(doc["publish"]["written"], 0)
        self.assertLess(doc["publish"]["written"], doc["publish"]["objects"])
        self.assertEqual(self.published_summary(site)["last_date"], "2022-04-19")

    def test_a_malformed_destination_is_an_init_error_and_nothing_runs(self):
        for dest, message in (("s3://Bad_Bucket/x?region=us-east-1", "the bucket name 'Bad_Bucket'"),
                              ("file://site", "is not file:///ABSOLUTE/PATH")):
            with self.subTest(dest=dest):
                proc = self.start([BIN, "lambda"], {"COVID_ETL_PUBLISH_TO": dest})
                path, _, doc = self.api.posted.get(timeout=30)
                self.assertEqual(path, API + "/init/error")
                self.assertEqual(doc["errorType"], "covid-etl.InitError")
                self.assertIn("COVID_ETL_PUBLISH_TO", doc["errorMessage"])
                self.assertIn(message, doc["errorMessage"])
                self.assertEqual(proc.wait(timeout=30), 64)
        self.assertFalse(os.path.exists(self.db))  # nothing loaded

    def test_the_binary_named_bootstrap_is_the_runtime(self):
        bootstrap = self.path("bootstrap")
        os.symlink(BIN, bootstrap)
        self.start([bootstrap])
        path, _, doc = self.api.invoke("req-b")
        self.assertEqual((path, doc["inserted"]), (API + "/invocation/req-b/response", 820))

    def test_a_bad_configuration_is_an_init_error(self):
        self.config = self.write("bad.toml", 'db = "x.db"\ncolour = "red"\n')
        proc = self.start([BIN, "lambda"])
        path, headers, doc = self.api.posted.get(timeout=30)
        self.assertEqual(path, API + "/init/error")
        self.assertEqual(doc["errorType"], "covid-etl.InitError")
        self.assertIn("unknown key 'colour'", doc["errorMessage"])
        self.assertEqual(proc.wait(timeout=30), 64)

    def test_outside_lambda_it_says_so(self):
        p = subprocess.run([BIN, "lambda"], capture_output=True, text=True,
                           env={k: v for k, v in os.environ.items() if k != "AWS_LAMBDA_RUNTIME_API"})
        self.assertEqual(p.returncode, 64)
        self.assertIn("AWS_LAMBDA_RUNTIME_API", p.stderr)
