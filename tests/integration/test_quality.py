"""Data-quality checks and source states through the real binary (README, "Data-quality checks
and stale sources"): a file with deaths above cases on a date loads (exit 0) with the warning in
`run --json` and in the run's notification; a header that gains a column is told on the next
run; `history --sources` shows each source's state (the NYT and JHU datasets are archived).
The stale rule itself, with an injected clock, is tested in tests/unit/quality_test.cc.
"""
import datetime
import json
import os
import unittest

from etl import SHARED, TempDirTest, cli, run_json

JHU = ("Date,Country/Region,Province/State,Confirmed,Recovered,Deaths\n"
       "2020-01-22,US,,1,0,0\n2020-01-23,US,,2,0,0\n")


class Quality(TempDirTest):
    def test_deaths_above_cases_warns_and_loads(self):
        nyt = self.write("us.csv", "date,cases,deaths\n2020-01-21,1,0\n2020-01-22,2,3\n"
                                   "2020-01-23,4,3\n")
        jhu = self.write("jhu.csv", JHU)
        code, summary, err = run_json(self.db, nyt, jhu)
        self.assertEqual(code, 0, err)
        self.assertEqual(summary["status"], "ok")
        self.assertEqual(summary["inserted"], 3)
        self.assertEqual(summary["quality"]["warnings"], 1)
        self.assertEqual(summary["quality"]["by_kind"], {"deaths_above_cases": 1})
        # The run record keeps the counts by kind: history --json, history, /api/v1/runs.
        p = cli("history", "--json", "--db", self.db)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(json.loads(p.stdout)[0]["quality"], {"deaths_above_cases": 1})
        p = cli("history", "--db", self.db)
        self.assertEqual(p.returncode, 0, p.stderr)
        header, row = p.stdout.splitlines()[:2]
        columns = dict(zip(header.replace("started (UTC)", "started").split(), row.split()))
        self.assertEqual((columns["d>c"], columns["outl"], columns["drop"], columns["hdr"]),
                         ("1", "0", "0", "0"))
        from test_serve import Server
        server = Server(self.db)
        self.addCleanup(server.kill)
        runs = server.get_json("/api/v1/runs")["runs"]
        self.assertEqual(runs[0]["quality"], {"deaths_above_cases": 1})
        first = summary["quality"]["first"][0]
        self.assertEqual((first["kind"], first["subject"], first["date"]),
                         ("deaths_above_cases", "US", "2020-01-22"))
        self.assertEqual(first["message"], "location US on 2020-01-22: 3 deaths but 2 cases")
        bodies = self.sql("SELECT event, body FROM outbox WHERE run_id = ?", (summary["run_id"],))
        self.assertEqual(len(bodies), 1)
        self.assertEqual(bodies[0][0], "success")
        self.assertIn("Data-quality warnings: 1 (deaths_above_cases 1); the first:\n"
                      "  location US on 2020-01-22: 3 deaths but 2 cases\n", bodies[0][1])
        # Same data again: nothing inserted or revised, nothing checked, nothing told.
        code, again, err = run_json(self.db, nyt, jhu)
        self.assertEqual(code, 0, err)
        self.assertEqual(again["quality"]["warnings"], 0)

    def test_header_change_across_runs_and_source_states(self):
        jhu = self.write("jhu.csv", JHU)
        nyt = self.write("us.csv", "date,cases,deaths\n2020-01-21,1,0\n2020-01-22,2,0\n")
        code, summary, err = run_json(self.db, nyt, jhu)
        self.assertEqual(code, 0, err)
        self.write("us.csv", "date,cases,deaths,note\n2020-01-21,1,0,\n2020-01-22,2,0,\n"
                             "2020-01-23,3,0,\n")
        code, summary, err = run_json(self.db, nyt, jhu)
        self.assertEqual(code, 0, err)
        self.assertEqual(summary["quality"]["by_kind"], {"header_changed": 1})
        self.assertEqual(summary["quality"]["first"][0]["message"],
                         f"source nyt ({nyt}): its header gained 'note' since the last successful "
                         "run (was: date,cases,deaths)")
        p = cli("history", "--sources", "--json", "--db", self.db)
        self.assertEqual(p.returncode, 0, p.stderr)
        states = json.loads(p.stdout)
        self.assertEqual([(s["name"], s["dataset"], s["state"], s["since"], s["text"])
                          for s in states],
                         # JHU's own date (its US series' last), not the national dataset's.
                         [("jhu", "national", "archived", "2023-03-10", "archived since 2023-03-10"),
                          ("nyt", "national", "archived", "2023-03-23", "archived since 2023-03-23")])
        self.assertEqual([s["url"] for s in states], [jhu, nyt])
        p = cli("history", "--sources", "--db", self.db)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("archived since 2023-03-23", p.stdout)
        self.assertEqual(summary["source_states"], states)


    def test_summary_sources_use_the_configured_allowances(self):
        """A weekly source (the WHO's) unchanged for 5 days: fresh by the default allowance (9
        days), stale by a configured one of 3, in /api/v1/summary as in history --sources."""
        config = self.write("c.toml", "[datasets]\nnational = false\nstates = false\n"
                                      "[freshness]\nweekly_stale_after_days = 3\n")
        who = self.write("who.csv", "Date_reported,Country_code,Country,WHO_region,New_cases,"
                                    "Cumulative_cases,New_deaths,Cumulative_deaths\n"
                                    "2021-01-03,NA,Namibia,AFRO,1,1,0,0\n"
                                    "2021-01-10,NA,Namibia,AFRO,1,2,0,0\n")
        p = cli("run", "--config", config, "--db", self.db, "--who", who)
        self.assertEqual(p.returncode, 0, p.stderr)
        five_days_ago = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=5)
        self.sql_write("UPDATE source_state SET changed_at = '%s'"
                       % five_days_ago.strftime("%Y-%m-%dT%H:%M:%S.000Z"))
        from test_serve import Server
        states = {}
        for name, extra in (("default", ()), ("configured", ("--config", config))):
            server = Server(self.db, *extra)
            self.addCleanup(server.kill)
            states[name] = [(s["name"], s["state"]) for s in
                            server.get_json("/api/v1/summary")["sources"]]
        self.assertEqual(states, {"default": [("who", "fresh")], "configured": [("who", "stale")]})
        p = cli("history", "--sources", "--json", "--config", config, "--db", self.db)
        self.assertEqual([(s["name"], s["state"]) for s in json.loads(p.stdout)],
                         [("who", "stale")])

    def test_a_source_moved_to_a_new_url_has_the_new_urls_state(self):
        """The WHO's file loaded from three paths in turn (as its URL moved), the two old ones
        last changed long ago: the source's state (the run summary, /api/v1/summary, which the
        dashboard's badge reads) is the current path's, fresh; history --sources keeps every
        path, the old ones superseded, not stale."""
        config = self.write("c.toml", "[datasets]\nnational = false\nstates = false\n"
                                      "[freshness]\nweekly_stale_after_days = 3\n")
        body = ("Date_reported,Country_code,Country,WHO_region,New_cases,Cumulative_cases,"
                "New_deaths,Cumulative_deaths\n2021-01-03,NA,Namibia,AFRO,1,1,0,0\n"
                "2021-01-10,NA,Namibia,AFRO,1,2,0,0\n")
        paths = [self.write(name, body) for name in ("who-1.csv", "who-2.csv", "who-3.csv")]
        for path in paths:
            p = cli("run", "--config", config, "--db", self.db, "--who", path)
            self.assertEqual(p.returncode, 0, p.stderr)
        long_ago = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=30)
        self.sql_write("UPDATE source_state SET changed_at = '%s' WHERE url != '%s'"
                       % (long_ago.strftime("%Y-%m-%dT%H:%M:%S.000Z"), paths[2]))
        p = cli("run", "--json", "--config", config, "--db", self.db, "--who", paths[2])
        self.assertEqual(p.returncode, 0, p.stderr)
        summary = json.loads(p.stdout)
        self.assertEqual([(s["url"], s["text"]) for s in summary["source_states"]],
                         [(paths[2], "fresh")])
        self.assertEqual(summary.get("stale_sources", []), [])
        from test_serve import Server
        server = Server(self.db, "--config", config)
        self.addCleanup(server.kill)
        self.assertEqual([(s["name"], s["url"], s["state"]) for s in
                          server.get_json("/api/v1/summary")["sources"]],
                         [("who", paths[2], "fresh")])
        p = cli("history", "--sources", "--json", "--config", config, "--db", self.db)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual([(s["url"], s["state"], s["text"]) for s in json.loads(p.stdout)],
                         [(paths[0], "superseded", "superseded (last read by run 1)"),
                          (paths[1], "superseded", "superseded (last read by run 2)"),
                          (paths[2], "fresh", "fresh")])
        p = cli("history", "--sources", "--config", config, "--db", self.db)
        self.assertNotIn("stale", p.stdout)


if __name__ == "__main__":
    unittest.main()
