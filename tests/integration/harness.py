"""Runs integration tests for CTest, as `python3 -m unittest -v` does, with the test's artifacts
kept for the secrets scan: `python3 harness.py test_module.TestClass`.

See artifacts.py: before any test is loaded, shutil.rmtree learns to keep the SQLite databases
of the folders the tests delete. Without COVID_ETL_TEST_ARTIFACTS it is plain unittest.
"""
import sys
import unittest

import artifacts

if __name__ == "__main__":
    artifacts.install()
    unittest.main(module=None, argv=[sys.argv[0], "-v", *sys.argv[1:]])
