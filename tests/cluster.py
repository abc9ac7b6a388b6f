"""Several `carepath serve` processes on one PostgreSQL database, as an operator runs them behind a
load balancer: one database, the same key files in every data directory (master and index keys,
the audit signing key, the local token issuer's key), nothing else shared. Used by
tests/instances, tests/kill9 --instances and bench/load --instances."""
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse

# What every instance must hold alike; the first start makes them (README, operations).
KEY_FILES = ("master.key", "index.key", "audit-signing.pem", "local-issuer.pem")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(port, method, path, token, body=None, headers=None, timeout=30):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    h = {"authorization": f"Bearer {token}", **(headers or {})}
    if body is not None:
        h["content-type"] = "application/json"
        body = json.dumps(body)
    c.request(method, path, body=body, headers=h)
    r = c.getresponse()
    raw = r.read()
    c.close()
    return r.status, (json.loads(raw) if raw else None)


class Cluster:
    def __init__(self, binary, work, server_url, n, extra=(), env=None):
        u = urllib.parse.urlsplit(server_url)
        self.db_name = f"carepath_cluster_{os.getpid()}"
        self.admin_url = urllib.parse.urlunsplit(u._replace(path="/postgres"))
        subprocess.run(["psql", self.admin_url, "-qc", f"CREATE DATABASE {self.db_name}"], check=True)
        self.url = urllib.parse.urlunsplit(u._replace(path=f"/{self.db_name}"))
        self.binary, self.work, self.extra = binary, work, list(extra)
        self.env = {**os.environ, "CAREPATH_RATE_LIMIT": "0", "CAREPATH_ORG_RATE_LIMIT": "0", **(env or {})}
        self.dirs = [os.path.join(work, f"data-{i}") for i in range(n)]
        self.ports = [free_port() for _ in range(n)]
        self.procs = [None] * n
        self.logs = [open(os.path.join(work, f"server-{i}.log"), "a") for i in range(n)]
        self.start(0)
        for d in self.dirs[1:]:
            os.makedirs(d, mode=0o700)
            for f in KEY_FILES:
                shutil.copy2(os.path.join(self.dirs[0], f), os.path.join(d, f))
        for i in range(1, n):
            self.start(i)

    def start(self, i):
        args = [self.binary, "serve", "--data-dir", self.dirs[i], "--bind", f"127.0.0.1:{self.ports[i]}",
                "--database-url", self.url] + self.extra
        self.procs[i] = subprocess.Popen(args, stdout=self.logs[i], stderr=self.logs[i], env=self.env)
        for _ in range(600):
            try:
                socket.create_connection(("127.0.0.1", self.ports[i]), timeout=0.2).close()
                return
            except OSError:
                if self.procs[i].poll() is not None:
                    sys.exit(f"instance {i} exited at start: see {self.logs[i].name}")
                time.sleep(0.05)
        sys.exit(f"instance {i} did not start")

    def alive(self, i):
        return self.procs[i] is not None and self.procs[i].poll() is None

    def kill(self, i):
        self.procs[i].send_signal(signal.SIGKILL)
        self.procs[i].wait()

    def stop(self):
        for p in self.procs:
            if p is not None and p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    p.kill()

    def token(self, sub, role, org):
        return subprocess.run([self.binary, "token", "--sub", sub, "--role", role, "--org", org, "--data-dir",
                               self.dirs[0], "--ttl", "86400"], check=True, capture_output=True, text=True).stdout.strip()

    def psql(self, sql):
        return subprocess.run(["psql", self.url, "-At", "-c", sql], check=True, capture_output=True,
                              text=True).stdout.strip()

    def drop_database(self):
        subprocess.run(["psql", self.admin_url, "-qc", f"DROP DATABASE IF EXISTS {self.db_name} WITH (FORCE)"],
                       capture_output=True)
