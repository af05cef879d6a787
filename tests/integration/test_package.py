"""`make package`'s Debian package, built, checked by lintian, installed on this machine with
apt-get, run as its user, then purged (issue 20). It installs into the system: root only (CI is
root on Debian 12), and never two at once (CTest's RESOURCE_LOCK dpkg).

COVID_ETL_BUILD_DIR is the build folder whose binary is packaged (CTest sets it).
"""
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import unittest

from etl import JHU, NYT, SHARED

STATES = os.path.join(SHARED, "nyt", "us-states.csv")
BUILD = os.environ.get("COVID_ETL_BUILD_DIR", "")
# What the package says it installs (README "Deployment"), besides its documentation.
FILES = [
    "/usr/bin/covid-etl",
    "/usr/share/man/man1/covid-etl.1.gz",
    "/usr/share/bash-completion/completions/covid-etl",
    "/etc/covid-etl/covid-etl.toml",
    "/lib/systemd/system/covid-etl.service",
    "/lib/systemd/system/covid-etl-run.service",
    "/lib/systemd/system/covid-etl-run.timer",
    "/usr/share/doc/covid-etl/copyright",
]
DATA = "/var/lib/covid-etl"


def sh(*args, **kw):
    return subprocess.run(args, capture_output=True, text=True, timeout=300, **kw)


def installed():
    p = sh("dpkg-query", "-W", "-f=${Status}", "covid-etl")
    return p.returncode == 0 and "installed" in p.stdout and "not-installed" not in p.stdout


@unittest.skipUnless(os.geteuid() == 0 and shutil.which("apt-get") and BUILD,
                     "installs a package: root on Debian, with COVID_ETL_BUILD_DIR")
class DebianPackage(unittest.TestCase):
    def setUp(self):
        if installed():
            self.skipTest("covid-etl is installed on this machine already: not touching it")
        self.out = tempfile.mkdtemp(prefix="covid-etl-package-")
        self.addCleanup(shutil.rmtree, self.out, True)

    def purge_everything(self):
        sh("apt-get", "purge", "-y", "-qq", "covid-etl")
        shutil.rmtree(DATA, True)
        sh("deluser", "--system", "covid-etl")

    def test_build_install_run_purge(self):
        p = sh("cmake", "--build", BUILD, "--target", "package_files")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        p = sh("cpack", "-G", "DEB", "-B", self.out, cwd=BUILD)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        debs = glob.glob(os.path.join(self.out, "covid-etl_*.deb"))
        self.assertEqual(len(debs), 1, os.listdir(self.out))
        deb = debs[0]

        p = sh("lintian", "--fail-on", "error", deb)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertNotRegex(p.stdout, r"(?m)^E: ")

        self.addCleanup(self.purge_everything)
        p = sh("apt-get", "install", "-y", "-qq", "./" + os.path.basename(deb), cwd=self.out,
               env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        listed = set(sh("dpkg", "-L", "covid-etl").stdout.split())
        for path in FILES:
            self.assertIn(path, listed)
            self.assertTrue(os.path.isfile(path), path)
        conffiles = sh("dpkg-query", "-W", "-f=${Conffiles}", "covid-etl").stdout
        self.assertIn("/etc/covid-etl/covid-etl.toml", conffiles)
        with open("/lib/systemd/system/covid-etl.service") as f:
            unit = f.read()
        self.assertIn("ExecStart=/usr/bin/covid-etl daemon", unit)
        self.assertIn("User=covid-etl", unit)
        self.assertNotIn("DynamicUser", unit)

        p = sh("/usr/bin/covid-etl", "--version")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertRegex(p.stdout, r"^covid-etl \d+\.\d+\.\d+ \(commit ")
        user = pwd.getpwnam("covid-etl")
        self.assertLess(user.pw_uid, 1000)  # a system user
        st = os.stat(DATA)
        self.assertEqual((st.st_uid, oct(st.st_mode & 0o777)), (user.pw_uid, "0o750"))
        p = sh("man", "-P", "cat", "covid-etl", env={**os.environ, "MANWIDTH": "100"})
        if p.returncode == 0:  # man-db may be absent; the file is checked above
            self.assertIn("covid-etl run", p.stdout)
        p = sh("bash", "-c", "source /usr/share/bash-completion/completions/covid-etl && "
               "COMP_WORDS=(covid-etl run --ny) COMP_CWORD=2 && _covid_etl && echo ${COMPREPLY[@]}")
        self.assertEqual(p.stdout.split(), ["--nyt"], p.stderr)

        # A run from local files as the package's user, into the configured database.
        p = sh("runuser", "-u", "covid-etl", "--", "/usr/bin/covid-etl", "run", "--config",
               "/etc/covid-etl/covid-etl.toml", "--nyt", NYT, "--jhu", JHU, "--states", STATES,
               cwd=DATA)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(os.stat(os.path.join(DATA, "covid.db")).st_uid, user.pw_uid)

        p = sh("apt-get", "purge", "-y", "-qq", "covid-etl",
               env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertFalse(installed())
        left = [path for path in listed if os.path.isfile(path)]
        self.assertEqual(left, [])
        self.assertFalse(os.path.exists("/etc/covid-etl"))
        # What the package documents it leaves: the data directory (and its user).
        self.assertTrue(os.path.isfile(os.path.join(DATA, "covid.db")))
