"""Data-quality checks and source states through the real binary (README, "Data-quality checks
and stale sources"): a file with deaths above cases on a date loads (exit 0) with the warning in
`run --json` and in the run's notification; a header that gains a column is told on the next
run; `history --sources` shows each source's state (the NYT and JHU datasets are archived).
The stale rule itself, with an injected clock, is tested in tests/unit/quality_test.cc.
"""
import json
import unittest

from etl import TempDirTest, cli, run_json

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
                         [("jhu", "national", "archived", "2023-03-23", "archived since 2023-03-23"),
                          ("nyt", "national", "archived", "2023-03-23", "archived since 2023-03-23")])
        self.assertEqual([s["url"] for s in states], [jhu, nyt])
        p = cli("history", "--sources", "--db", self.db)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("archived since 2023-03-23", p.stdout)
        self.assertEqual(summary["source_states"], states)


if __name__ == "__main__":
    unittest.main()
