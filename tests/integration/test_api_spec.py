"""The API describes itself and may be read from other origins: GET /api/v1 (an index) and
GET /api/v1/openapi.json (OpenAPI 3.1) with every endpoint's real responses validated against the
document (Debian's python3-jsonschema, Draft 2020-12); CORS on read-only GETs only; the map data
(/api/v1/map) equal to the series API's; framing denied by default and allowed only to the origins
of [serve] frame_ancestors.

Data: the real national, state, WHO and population (JHU's lookup table) files and a small generated
county set (gen-nyt-like --counties 160 --days 60), loaded together.
"""
import json
import os
import shutil
import subprocess
import tempfile
import unittest
import urllib.parse

import jsonschema

from etl import JHU, NYT, REPO, SHARED, cli, run_json
from test_serve import GEN, STATES, Server

WHO = os.path.join(SHARED, "who", "WHO-COVID-19-global-data-2026-04-26.csv")
POPULATION = os.path.join(SHARED, "jhu", "UID_ISO_FIPS_LookUp_Table.csv")
SPEC = os.path.join(REPO, "web", "api", "openapi.json")


def validator(doc, schema):
    resolver = jsonschema.RefResolver.from_schema(doc)
    return jsonschema.Draft202012Validator(schema, resolver=resolver)


class ApiSpec(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="covid-etl-spec-")
        gen = os.path.join(cls.tmp, "gen")
        subprocess.run(["/usr/bin/python3", GEN, gen, "--counties", "160", "--days", "60"], check=True,
                       capture_output=True, timeout=120)
        cls.db = os.path.join(cls.tmp, "covid.db")
        code, _, err = run_json(cls.db, NYT, JHU, "--states", STATES, "--counties",
                                os.path.join(gen, "us-counties.csv"), "--population", POPULATION,
                                env={"COVID_ETL_WHO_URL": WHO})
        if code != 0:
            raise AssertionError(f"run failed ({code}): {err}")
        cls.server = Server(cls.db)
        with open(SPEC) as f:
            cls.file_doc = json.load(f)

    @classmethod
    def tearDownClass(cls):
        cls.server.kill()
        shutil.rmtree(cls.tmp, True)

    def test_the_served_document_is_the_file_and_is_openapi_3_1(self):
        doc = self.server.get_json("/api/v1/openapi.json")
        self.assertEqual(doc, self.file_doc)
        self.assertEqual(doc["openapi"], "3.1.0")
        # Every schema in it is a valid Draft 2020-12 schema.
        for name, schema in doc["components"]["schemas"].items():
            jsonschema.Draft202012Validator.check_schema(schema)

    def test_the_index_lists_every_path_of_the_document(self):
        index = self.server.get_json("/api/v1")
        listed = {e["path"] for e in index["endpoints"]}
        self.assertEqual(listed, set(self.file_doc["paths"]))
        self.assertEqual(index["openapi"], "/api/v1/openapi.json")

    def check(self, path, status=200):
        """GETs path and validates the answer against the document's schema for its status."""
        code, headers, body = self.server.request(path)
        self.assertEqual(code, status, f"{path}: {body[:300]!r}")
        route = urllib.parse.urlsplit(path).path
        op = self.file_doc["paths"][route]["get"]
        content = op["responses"][str(code)]["content"]
        ctype = headers["content-type"]
        self.assertIn(ctype, content, f"{path}: {ctype} is not documented")
        schema = content[ctype]["schema"]
        value = json.loads(body) if ctype.startswith("application/json") else body.decode()
        errors = list(validator(self.file_doc, schema).iter_errors(value))
        self.assertEqual(errors, [], f"{path}: {[e.message for e in errors[:3]]}")
        # Every parameter sent is documented.
        names = {p["name"] for p in op.get("parameters", []) if p["in"] == "query"}
        for k, _ in urllib.parse.parse_qsl(urllib.parse.urlsplit(path).query):
            self.assertIn(k, names, f"{path}: parameter {k} is not documented")
        return value

    def test_every_endpoint_answers_as_documented(self):
        county = self.server.get_json("/api/v1/locations?type=county&limit=1")["locations"][0]["id"]
        for path in [
            "/api/v1", "/api/v1/openapi.json",
            "/api/v1/series", "/api/v1/series?location=06&from=2021-01-01&to=2021-01-31",
            "/api/v1/series?location=" + urllib.parse.quote(county) + "&fields=cases,new_cases_avg7_per_100k",
            "/api/v1/series?location=FRA",
            "/api/v1/map", "/api/v1/map?level=county&metric=deaths&per_100k=false",
            "/api/v1/map?level=county&from=2020-02-01&to=2020-03-31&state=36",
            "/api/v1/map?level=country&from=2021-01-01&to=2021-03-31",
            "/api/v1/locations", "/api/v1/locations?type=state&q=new&limit=5", "/api/v1/locations?id=06,FRA",
            "/api/v1/states", "/api/v1/rankings", "/api/v1/rankings?level=county&state=36",
            "/api/v1/rankings?level=country", "/api/v1/annotations", "/api/v1/annotations?location=06&from=2020-01-01",
            "/api/v1/summary", "/api/v1/summary?location=06",
            "/api/v1/runs", "/api/v1/runs?limit=1",
            "/api/v1/export.csv?location=06&from=2021-01-01&to=2021-01-10&per_100k=true",
            "/healthz", "/metrics",
        ]:
            with self.subTest(path=path):
                self.check(path)
        for path in ["/api/v1/series?location=nowhere", "/api/v1/map?level=city",
                     "/api/v1/map?level=state&state=06", "/api/v1/map?from=2020-01-01&to=2022-01-01",
                     "/api/v1/map?from=2021-01-01", "/api/v1/locations?limit=0", "/api/v1/rankings?level=county", "/api/v1/runs?limit=x"]:
            with self.subTest(path=path):
                self.check(path, 400)

    def test_the_map_holds_the_series_values(self):
        for level, loc, metric, field in [("state", "06", "cases", "new_cases_avg7_per_100k"),
                                          ("state", "36", "deaths", "new_deaths_avg7"),
                                          ("country", "FRA", "cases", "new_cases_avg7")]:
            with self.subTest(level=level, loc=loc):
                per = field.endswith("per_100k")
                m = self.server.get_json(f"/api/v1/map?level={level}&metric={metric}&per_100k={str(per).lower()}"
                                         "&from=2021-01-01&to=2021-03-31")
                s = self.server.get_json(f"/api/v1/series?location={loc}&from=2021-01-01&to=2021-03-31")
                col = m["ids"].index(loc)
                by_date = dict(zip(s["date"], s[field]))
                self.assertGreater(len(m["dates"]), 10)
                self.assertTrue(any(v is not None for v in s[field]), f"{loc}: no {field}")
                for d, row in zip(m["dates"], m["values"]):
                    want = by_date.get(d)
                    if want is None:
                        self.assertIsNone(row[col], d)
                    else:
                        self.assertAlmostEqual(row[col], want, delta=0.011, msg=d)
        latest = self.server.get_json("/api/v1/map?level=state")
        self.assertEqual(latest["dates"], [latest["last_date"]])
        self.assertEqual(len(latest["values"]), 1)
        self.assertEqual(len(latest["values"][0]), len(latest["ids"]))

    def test_the_map_names_the_shapes_of_locations_that_are_not_counties(self):
        m = self.server.get_json("/api/v1/map?level=county")
        shapes = m["shapes"]
        self.assertEqual(shapes["36:New York City"], ["36005", "36047", "36061", "36081", "36085"])
        self.assertEqual(shapes["29:Kansas City"], [])
        self.assertEqual(shapes["36:Unknown"], [])
        for id_ in m["ids"]:  # a county with FIPS is its own shape: not listed
            if ":" not in id_:
                self.assertNotIn(id_, shapes)
        world = self.server.get_json("/api/v1/map?level=country")
        self.assertEqual(world["shapes"]["FRA"], ["250"])  # ISO 3166-1 numeric, from iso-codes
        self.assertEqual(world["shapes"]["USA"], ["840"])
        one = self.server.get_json("/api/v1/map?level=county&state=36")
        self.assertTrue(one["ids"] and all(i.startswith("36") for i in one["ids"]))

    def test_cors_on_read_only_gets_only(self):
        for path in ["/api/v1", "/api/v1/openapi.json", "/api/v1/series", "/api/v1/map",
                     "/api/v1/states", "/api/v1/series?location=nowhere"]:
            with self.subTest(path=path):
                _, headers, _ = self.server.request(path, headers={"Origin": "https://elsewhere.example"})
                self.assertEqual(headers.get("access-control-allow-origin"), "*")
        # Never on the trigger, nor on the page.
        code, headers, _ = self.server.request("/api/v1/runs", method="POST", body=b"{}",
                                               headers={"Origin": "https://elsewhere.example"})
        self.assertNotIn("access-control-allow-origin", headers)
        _, headers, _ = self.server.request("/")
        self.assertNotIn("access-control-allow-origin", headers)

    def test_framing_is_denied_by_default(self):
        _, headers, _ = self.server.request("/")
        self.assertEqual(headers["x-frame-options"], "DENY")
        self.assertIn("frame-ancestors 'none'", headers["content-security-policy"])


class Framing(unittest.TestCase):
    """[serve] frame_ancestors: the listed origins may frame the page; a bad value is refused."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="covid-etl-frame-")
        self.db = os.path.join(self.tmp, "covid.db")
        code, _, err = run_json(self.db, NYT, JHU)
        self.assertEqual(code, 0, err)

    def tearDown(self):
        shutil.rmtree(self.tmp, True)

    def config(self, text):
        path = os.path.join(self.tmp, "covid-etl.toml")
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_listed_origins_may_frame_the_page(self):
        conf = self.config('[serve]\nframe_ancestors = ["https://news.example.org", "https://*.example.com:8443"]\n')
        server = Server(self.db, "--config", conf)
        try:
            for path in ["/", "/?embed=1&view=map", "/api/v1/summary"]:
                _, headers, _ = server.request(path)
                self.assertNotIn("x-frame-options", headers)
                self.assertIn("frame-ancestors 'self' https://news.example.org https://*.example.com:8443\r\n"
                              .strip(), headers["content-security-policy"])
        finally:
            server.kill()

    def test_a_bad_origin_is_refused_with_its_place(self):
        for value in ['["https://a.example/path"]', '["*"]', '["https://a.example; script-src *"]',
                      '"https://a.example"', '["ftp://a.example"]', "[\"'none'\"]"]:
            with self.subTest(value=value):
                conf = self.config(f"[serve]\nframe_ancestors = {value}\n")
                p = cli("serve", "--config", conf, "--db", self.db, "--listen", "127.0.0.1:0", timeout=20)
                self.assertEqual(p.returncode, 64, p.stderr)  # a usage error
                self.assertIn("covid-etl.toml:2:", p.stderr)
                self.assertIn("frame_ancestors", p.stderr)


if __name__ == "__main__":
    unittest.main()
