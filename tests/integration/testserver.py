"""What the test servers share (dynalite.py, s3server.py, pgserver.py): starting and stopping a
server process, and the command line that starts one for several test processes and stops it
at the end (CTest fixtures, benchmarks), through a folder of state.

In a test's own process (a server for one test class):
    ensure_installed(package, "dynalite")      npm ci in tests/<package> when node_modules is stale
    proc, port = start_node(script, env, "dynalite")   node SCRIPT with pipes; it prints its port
    stop_process(proc, reader)                 terminate (kill after 10 s), join the thread reading
                                               its stderr, close the pipes

For a command line `NAME.py start STATE_DIR [ARGS...]` / `NAME.py stop STATE_DIR`:
    sys.exit(command(sys.argv, __doc__, start, stop))
start(state, args) starts the server and returns (info, url, message): info (a JSON object: what
stop needs) goes to STATE_DIR/server.json, url to STATE_DIR/url, message to stdout; it raises
DidNotStart to fail with exit status 1 and its message on stderr. stop(info) stops the server
that info describes; then server.json and url are removed. A start whose folder still has a
server.json (a previous run's server never stopped) stops that one first. A stop without a
server.json does nothing. A server meant to outlive the start command is started with
start_detached() and stopped with stop_pid().
"""
import fcntl
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import time


class DidNotStart(Exception):
    """The server did not start; the message says why (the end of its stderr)."""


def ensure_installed(package, what):
    """npm ci in `package` (tests/dynalite, tests/s3rver) when node_modules is missing or older
    than the lock file; one process at a time (CTest runs test classes in parallel)."""
    lock_file = os.path.join(package, "package-lock.json")
    stamp = os.path.join(package, "node_modules", ".package-lock.json")
    with open(lock_file) as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if os.path.exists(stamp) and os.path.getmtime(stamp) >= os.path.getmtime(lock_file):
            return
        npm = shutil.which("npm")
        if npm is None:
            raise RuntimeError(f"npm is needed for {what} (scripts/setup.sh installs it)")
        # Without the optional leveldown (a native module): dynalite keeps its tables in memory.
        p = subprocess.run([npm, "ci", "--omit=optional", "--no-audit", "--no-fund", "--loglevel=error"],
                           cwd=package, capture_output=True, text=True, timeout=600)
        if p.returncode != 0:
            raise RuntimeError(f"npm ci in {package} failed ({p.returncode}): {p.stderr[-2000:]}")


def node():
    return shutil.which("node") or "node"


# --- a server in this process ------------------------------------------------------------------

def start_node(script, env, what, timeout=30):
    """Starts `node script` with its stdout and stderr on pipes and waits for the port it prints
    on its first line: (proc, port). Otherwise stops it and raises RuntimeError with that line
    and the end of its stderr."""
    proc = subprocess.Popen([node(), script], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    line = proc.stdout.readline() if ready else ""
    if not line.strip().isdigit():
        _end(proc)
        err = proc.stderr.read()[-2000:]
        stop_process(proc)
        raise RuntimeError(f"{what} did not start: {line!r} {err}")
    return proc, int(line)


def _end(proc):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def stop_process(proc, reader=None):
    """Stops a process start_node() started (None: nothing to stop): terminates it, kills it
    after 10 s; joins `reader`, a thread reading its pipes, if any; closes its pipes."""
    if proc is None:
        return
    _end(proc)
    if reader is not None:
        reader.join(timeout=5)
    proc.stdout.close()
    proc.stderr.close()


# --- a server that outlives the command that started it ----------------------------------------

def start_detached(cmd, env, state, name, timeout=30):
    """Starts `cmd` in a session of its own (it outlives this command), its stdout and stderr in
    STATE/NAME.out and STATE/NAME.err, and waits for the port it prints on its first line:
    (pid, port). Otherwise kills it and raises DidNotStart with the end of its stderr."""
    out_path, err_path = os.path.join(state, name + ".out"), os.path.join(state, name + ".err")
    with open(out_path, "w") as out, open(err_path, "w") as err:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env,
                                start_new_session=True)
    deadline = time.monotonic() + timeout
    port = ""
    while time.monotonic() < deadline and proc.poll() is None:
        with open(out_path) as f:
            port = f.readline().strip()
        if port.isdigit():
            return proc.pid, int(port)
        time.sleep(0.05)
    if proc.poll() is None:
        proc.kill()
        proc.wait()
    with open(err_path) as f:
        raise DidNotStart(f"{name} did not start: {f.read()[-2000:]}")


def alive(pid, marker):
    """Whether `pid` is still our server, its command line holding `marker` (not a process that
    took its number since), and not a zombie."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            ours = marker.encode() in f.read()
        with open(f"/proc/{pid}/stat") as f:
            return ours and f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def stop_pid(pid, marker):
    """Stops the server start_detached() started as `pid`, if it is still ours (alive()):
    SIGTERM, SIGKILL after 10 s."""
    if alive(pid, marker):
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while alive(pid, marker) and time.monotonic() < deadline:
            time.sleep(0.05)
        if alive(pid, marker):
            os.kill(pid, signal.SIGKILL)


# --- the command line ----------------------------------------------------------------------------

STATE_FILES = ("server.json", "url")


def command(argv, doc, start, stop, args_ok=lambda args: not args):
    """`argv[0] start STATE_DIR [ARGS...]` or `argv[0] stop STATE_DIR`: see the module's comment.
    args_ok(ARGS) says whether the arguments after STATE_DIR are valid; otherwise the usage
    (`doc`) goes to stderr, exit status 64."""
    if len(argv) < 3 or argv[1] not in ("start", "stop") or not args_ok(argv[3:]):
        print(doc, file=sys.stderr)
        return 64
    state = os.path.abspath(argv[2])
    info_path = os.path.join(state, "server.json")
    if argv[1] == "start":
        if os.path.exists(info_path):  # a previous run's server that was never stopped
            command([argv[0], "stop", state], doc, start, stop, args_ok=lambda args: True)
        os.makedirs(state, exist_ok=True)
        try:
            info, url, message = start(state, argv[3:])
        except DidNotStart as e:
            print(e, file=sys.stderr)
            return 1
        with open(info_path, "w") as f:
            json.dump(info, f)
        with open(os.path.join(state, "url"), "w") as f:
            f.write(url + "\n")
        print(message)
        return 0
    try:
        with open(info_path) as f:
            info = json.load(f)
    except (OSError, ValueError):
        return 0
    stop(info)
    for name in STATE_FILES:
        try:
            os.remove(os.path.join(state, name))
        except OSError:
            pass
    return 0
