"""A three-node RabbitMQ cluster on loopback, made from the machine's rabbitmq-server.

Used by the cluster tests (the ``rabbit_cluster`` fixture) and by people
(``bin/rabbitmq-cluster start|stop|status``). It never touches the broker on
5672: its nodes have names, ports, data and config folders of their own, and
only the processes it started are ever killed.

Each node gets its own config file, because the system's pins 5672, and its
own env file, because the system's names the node ``rabbit@localhost``. The
nodes run in the foreground (under a new session, so a terminal's Ctrl-C does
not reach them) as the ``rabbitmq`` user, so they share that user's Erlang
cookie with the CLI tools, which run as the same user. Importable without
Django.

    cluster = Cluster.create()          # free ports, names of its own
    cluster.start()
    cluster.bus_url()                   # "amqp://…:p1/…,amqp://…:p2/…,…"
    cluster.leader(queue).stop_app()    # kill(), start_app(), restart()
    cluster.destroy()
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from tests.loopback import free_port, wait_for

#: Debian's /usr/sbin wrappers re-run the tools through ``su``; the real ones live here.
SBIN = Path("/usr/lib/rabbitmq/bin")
BROKER_USER = "rabbitmq"
#: How long a node may take to boot or to join (2 slow cores, other tests running).
BOOT_TIMEOUT = 120.0
CLI_TIMEOUT = 60.0
URL_OPTIONS = "heartbeat=2&connection_attempts=1&socket_timeout=2&blocked_connection_timeout=10"


def _tool(name: str) -> str:
    path = SBIN / name
    return str(path) if path.exists() else (shutil.which(name) or name)


def _broker_account() -> pwd.struct_passwd | None:
    """The account the nodes and the CLI run as: ``rabbitmq`` when we are root, else ourselves."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(BROKER_USER)
    except KeyError:
        return None


def _as_broker(env: dict[str, str]) -> dict:
    """Popen arguments that run a tool as the broker's account, with its HOME (and so its cookie)."""
    account = _broker_account()
    if account is None:
        return {"env": env}
    return {"env": {**env, "HOME": account.pw_dir}, "user": account.pw_uid, "group": account.pw_gid,
            "extra_groups": []}


@dataclass
class Node:
    name: str  # the part before @localhost
    port: int
    dist_port: int
    home: Path
    process: subprocess.Popen | None = None

    @property
    def nodename(self) -> str:
        return f"{self.name}@localhost"

    @property
    def pid_file(self) -> Path:
        return self.home / "beam.pid"

    def url(self, user: str = "guest", password: str = "guest", options: str = URL_OPTIONS) -> str:
        return f"amqp://{user}:{password}@127.0.0.1:{self.port}/%2F?{options}"

    # --- the node's process --------------------------------------------------

    def prepare(self) -> None:
        (self.home / "mnesia").mkdir(parents=True, exist_ok=True)
        (self.home / "log").mkdir(exist_ok=True)
        (self.home / "rabbitmq.conf").write_text(
            f"listeners.tcp.default = 127.0.0.1:{self.port}\n"
            # What production uses with three nodes: a node cut off from the
            # others stops rather than diverge.
            "cluster_partition_handling = pause_minority\n"
        )
        (self.home / "rabbitmq-env.conf").write_text("")  # instead of the system's, which names the node
        (self.home / "enabled_plugins").write_text("[].\n")  # no management listener on 15672
        _give_to_broker(self.home)

    def environment(self) -> dict[str, str]:
        return {
            "PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"),
            "LANG": "C.UTF-8",
            "RABBITMQ_NODENAME": self.nodename,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_MNESIA_BASE": str(self.home / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.home / "log"),
            "RABBITMQ_PID_FILE": str(self.pid_file),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.home / "enabled_plugins"),
            "RABBITMQ_CONFIG_FILE": str(self.home / "rabbitmq.conf"),
            "RABBITMQ_CONF_ENV_FILE": str(self.home / "rabbitmq-env.conf"),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
        }

    def launch(self) -> None:
        """Start the node's VM (in the background); ``wait_running`` waits for it."""
        self.pid_file.unlink(missing_ok=True)
        with open(self.home / "server.out", "ab") as out:
            process = self.process = subprocess.Popen(
                [_tool("rabbitmq-server")], cwd=self.home, stdin=subprocess.DEVNULL, stdout=out,
                stderr=subprocess.STDOUT, start_new_session=True, **_as_broker(self.environment()),
            )
        # The session leader's id is also its process group's: what ``destroy`` kills.
        (self.home / "group").write_text(str(process.pid))

    def beam_pid(self) -> int | None:
        try:
            return int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None

    def ctl(self, *args: str, tool: str = "rabbitmqctl", check: bool = True,
            timeout: float = CLI_TIMEOUT) -> subprocess.CompletedProcess:
        env = {"PATH": os.environ.get("PATH", ""), "LANG": "C.UTF-8", "ERL_EPMD_ADDRESS": "127.0.0.1",
               "RABBITMQ_CONF_ENV_FILE": str(self.home / "rabbitmq-env.conf")}
        result = subprocess.run([_tool(tool), "-q", "-n", self.nodename, *args], cwd=self.home,
                                capture_output=True, text=True, timeout=timeout, **_as_broker(env))
        if check and result.returncode != 0:
            raise RuntimeError(f"{tool} {' '.join(args)} on {self.nodename} failed ({result.returncode}): "
                               f"{result.stdout}{result.stderr}")
        return result

    def listening(self) -> bool:
        """Something accepts connections on the node's AMQP port. Cheap, where the CLI is an Erlang VM of its own
        (about half a second of CPU a call): a wait asks the CLI only once the port is open."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=2):
                return True
        except OSError:
            return False

    def is_running(self) -> bool:
        """The node is up and its RabbitMQ application runs (not merely the VM)."""
        try:
            return self.ctl("check_running", tool="rabbitmq-diagnostics", check=False, timeout=30).returncode == 0
        except subprocess.TimeoutExpired:  # a CLI slow to start on a busy machine is no answer yet: ask again
            return False

    def wait_running(self, timeout: float = BOOT_TIMEOUT) -> None:
        def running() -> bool:
            if self.process is not None and self.process.poll() is not None:
                log = (self.home / "server.out").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"{self.nodename} exited while starting:\n{log}")
            return self.listening() and self.is_running()

        wait_for(running, timeout=timeout, what=f"{self.nodename} to run", interval=0.5)

    # --- faults ---------------------------------------------------------------

    def kill(self) -> None:
        """SIGKILL the node's VM: a crash, with no goodbye to clients or peers."""
        pid = self.beam_pid()
        if pid is None:
            raise RuntimeError(f"{self.nodename} has no pid file: is it running?")
        os.kill(pid, signal.SIGKILL)
        wait_for(lambda: not _alive(pid), timeout=30, what=f"{self.nodename}'s VM to die", interval=0.1)
        self.pid_file.unlink(missing_ok=True)
        self._end_group()

    def stop_app(self) -> None:
        """Stop RabbitMQ inside the node (the VM stays, as in a maintenance stop): clients are closed."""
        self.ctl("stop_app")

    def start_app(self) -> None:
        self.ctl("start_app")
        self.wait_running()

    def stop(self) -> None:
        """A clean shutdown of the whole node."""
        self.ctl("stop", str(self.pid_file) if self.pid_file.exists() else "", check=False, timeout=120)
        self._end_group()

    def start(self) -> None:
        """Start a node that was stopped or killed; it rejoins its cluster from its own data."""
        self.launch()
        self.wait_running()

    def restart(self) -> None:
        self.stop()
        self.start()

    def _end_group(self) -> None:
        try:
            group = int((self.home / "group").read_text())
        except (OSError, ValueError):
            return
        try:
            os.killpg(group, signal.SIGKILL)
        except ProcessLookupError:
            pass
        (self.home / "group").unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead too; it is reaped by its parent shell, which exits with it.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def _give_to_broker(path: Path) -> None:
    account = _broker_account()
    if account is None:
        return
    for place in [path, *path.rglob("*")]:
        os.chown(place, account.pw_uid, account.pw_gid)


class Cluster:
    def __init__(self, base: Path, nodes: list[Node]) -> None:
        self.base = base
        self.nodes = nodes

    @classmethod
    def create(cls, base: Path | None = None, *, ports: list[int] | None = None,
               dist_ports: list[int] | None = None, names: list[str] | None = None, size: int = 3) -> Cluster:
        """``size`` nodes (three; one makes a lone broker of the tests' own); by default in a fresh folder, on
        free ports, with names no other run uses."""
        if base is None:
            base = Path(tempfile.mkdtemp(prefix="shop-rabbit-cluster-"))
        tag = uuid.uuid4().hex[:6]
        names = names or [f"c{i}_{tag}" for i in range(1, size + 1)]
        ports = ports or [free_port() for _ in names]
        dist_ports = dist_ports or [free_port() for _ in names]
        nodes = [Node(name, port, dist, base / name) for name, port, dist in zip(names, ports, dist_ports)]
        return cls(base, nodes)

    # --- the whole cluster ----------------------------------------------------

    def start(self) -> None:
        """Boot the nodes together, then join the second and third to the first."""
        self.base.mkdir(parents=True, exist_ok=True)
        self.save()
        for node in self.nodes:
            node.prepare()
        _give_to_broker(self.base)
        for node in self.nodes:
            node.launch()
        with ThreadPoolExecutor(len(self.nodes)) as pool:
            list(pool.map(lambda node: node.wait_running(), self.nodes))
        first = self.nodes[0]
        for node in self.nodes[1:]:
            node.ctl("stop_app")
            node.ctl("join_cluster", first.nodename)
            node.ctl("start_app")
        self.wait_all_running(what="all three nodes to run in one cluster")

    def destroy(self) -> None:
        """Kill every process this cluster started and delete its folders (safe to call twice)."""
        beams = [pid for pid in (node.beam_pid() for node in self.nodes) if pid is not None]
        for node in self.nodes:
            node._end_group()
        for pid in beams:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        # SIGKILL is delivered asynchronously (a VM busy writing to disk takes a moment to die):
        # the folders go, and the caller goes on, only once no VM of ours is left.
        wait_for(lambda: not any(_alive(pid) for pid in beams), timeout=30, what="the cluster's VMs to end")
        shutil.rmtree(self.base, ignore_errors=True)

    def heal(self) -> None:
        """Bring back every node a test stopped or killed, so the next test starts with three."""
        running = self.running_nodes()
        for node in self.nodes:
            if node.nodename in running:
                continue
            pid = node.beam_pid()
            if pid is not None and _alive(pid):
                node.start_app()  # the VM is up: only the app was stopped
            else:
                node.start()
        self.wait_all_running(what="all three nodes to run in one cluster again")

    def wait_all_running(self, timeout: float = BOOT_TIMEOUT, what: str = "every node to run in one cluster") -> None:
        """Until every node sees every node running (``running_nodes``); the CLI is asked once all the nodes'
        ports are open, and twice a second at most."""
        everyone = {n.nodename for n in self.nodes}
        wait_for(lambda: all(n.listening() for n in self.nodes) and self.running_nodes() == everyone,
                 timeout=timeout, interval=0.5, what=what)

    def running_nodes(self, asking: Node | None = None) -> set[str]:
        """The nodes that ``asking`` (by default the first one that answers) sees running."""
        for node in [asking] if asking else self.nodes:
            try:
                result = node.ctl("cluster_status", "--formatter", "json", check=False, timeout=30)
            except subprocess.TimeoutExpired:  # as is_running: no answer from this one, ask the next
                continue
            if result.returncode == 0:
                return set(json.loads(result.stdout)["running_nodes"])
        return set()

    # --- for tests --------------------------------------------------------------

    def urls(self, **kwargs) -> list[str]:
        return [node.url(**kwargs) for node in self.nodes]

    def bus_url(self, options: str = URL_OPTIONS) -> str:
        """``BUS_URL`` listing every node (short heartbeats by default, so a killed node is noticed quickly)."""
        return ",".join(node.url(options=options) for node in self.nodes)

    def node(self, nodename: str) -> Node:
        return next(n for n in self.nodes if n.nodename == nodename or n.name == nodename)

    def node_at(self, address: str) -> Node:
        """The node listening at ``host:port`` (as ``connection.connected_node`` says)."""
        return next(n for n in self.nodes if address.endswith(f":{n.port}"))

    def alive(self) -> list[Node]:
        running = self.running_nodes()
        return [n for n in self.nodes if n.nodename in running]

    def leader(self, queue: str, vhost: str = "/") -> Node:
        """The node that leads the quorum queue ``queue``."""
        for node in self.alive():
            result = node.ctl("list_queues", "-p", vhost, "name", "leader", "--formatter", "json", check=False)
            if result.returncode == 0:
                for row in json.loads(result.stdout):
                    if row["name"] == queue:
                        return self.node(row["leader"])
        raise LookupError(f"no running node knows a queue named {queue!r}")

    # --- for bin/rabbitmq-cluster -----------------------------------------------

    def save(self) -> None:
        state = [{"name": n.name, "port": n.port, "dist_port": n.dist_port} for n in self.nodes]
        (self.base / "cluster.json").write_text(json.dumps(state))

    @classmethod
    def load(cls, base: Path) -> Cluster:
        state = json.loads((base / "cluster.json").read_text())
        return cls(base, [Node(s["name"], s["port"], s["dist_port"], base / s["name"]) for s in state])


#: Where ``bin/rabbitmq-cluster`` keeps its nodes: fixed names and ports, so people can find them.
DEFAULT_BASE = Path(tempfile.gettempdir()) / "shop-rabbitmq-cluster"
DEFAULT_PORTS, DEFAULT_DIST_PORTS = [5682, 5683, 5684], [25682, 25683, 25684]


def main(argv: list[str]) -> int:
    action = argv[0] if argv else "status"
    base = Path(os.environ.get("SHOP_CLUSTER_DIR", DEFAULT_BASE))
    if action == "start":
        if (base / "cluster.json").exists():
            print(f"a cluster is already set up in {base}; `bin/rabbitmq-cluster stop` first", file=sys.stderr)
            return 1
        cluster = Cluster.create(base, ports=DEFAULT_PORTS, dist_ports=DEFAULT_DIST_PORTS,
                                 names=["c1", "c2", "c3"])
        try:
            cluster.start()
        except BaseException:
            cluster.destroy()
            raise
        url = cluster.bus_url(options="heartbeat=30&connection_attempts=2&retry_delay=1&socket_timeout=5")
        print(f"three nodes running in {base}\nBUS_URL={url}\nBUS_QUEUE_TYPE=quorum")
        return 0
    if not (base / "cluster.json").exists():
        print(f"no cluster in {base}", file=sys.stderr)
        return 1 if action != "stop" else 0
    cluster = Cluster.load(base)
    if action == "stop":
        cluster.destroy()
        print(f"stopped and removed {base}")
    elif action == "status":
        running = cluster.running_nodes()
        for node in cluster.nodes:
            print(f"{node.nodename} 127.0.0.1:{node.port} {'running' if node.nodename in running else 'down'}")
    else:
        print("usage: bin/rabbitmq-cluster start|stop|status", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
