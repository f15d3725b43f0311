"""A LocalStack Lambda runtime executor that runs a function's ``bootstrap`` as a local child process.

LocalStack's own executor starts a Docker container with a Go init that serves the Lambda Runtime API; this
machine has no Docker, and that init cannot run on the host (fixed ports 9001/9563, drops privileges when
root, assumes /var/task). So this executor serves the Runtime API itself, one small HTTP server on
127.0.0.1 per process it starts, and runs the unzipped ``bootstrap`` (``provided.*`` runtimes) directly,
or under ``qemu-aarch64`` when the function's architecture is arm64 and the host is not.

Registered by ``init/start.d/30-local-process-executor.py`` under the name ``local-process``;
``scripts/emulator.sh`` selects it with ``LAMBDA_RUNTIME_EXECUTOR=local-process``. Interface and pitfalls
read from localstack-core 2026.3.0 (``services/lambda_/invocation/runtime_executor.py``,
``execution_environment.py``, ``assignment.py``):

- ``start(env_vars)`` blocks until the runtime polls ``/next`` (LocalStack stops us from another thread
  after ``LAMBDA_RUNTIME_ENVIRONMENT_TIMEOUT``); raising there marks the environment failed.
- ``invoke(payload)`` must *return* every failure as ``InvocationResult(is_error=True)``: an exception tears
  the environment down and the caller sees a service error instead of a function error.
- LocalStack enforces no function timeout: we kill the process and answer ``Task timed out after N.00
  seconds`` (``Sandbox.Timedout``, as AWS's provided runtimes report it). A crashed or killed process is
  replaced by a fresh one at the next invocation, on a fresh server, so a dead process's pending long-poll
  can never take that invocation.
- LocalStack waits only ~5 s for executors on shutdown: ``stop()`` is quick (SIGKILL, no grace: the
  function holds no state worth flushing) and idempotent. Each child leads a process group of its own
  (killed whole, grandchildren included) and inherits the emulator's ``IMGRESIZE_EMULATOR`` marker, so ``scripts/emulator.sh stop`` reaches any that
  survive; an ``atexit`` hook kills them too.
"""

from __future__ import annotations

import atexit
import http.server
import json
import logging
import os
import platform
import queue
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

from localstack import config
from localstack.services.lambda_.invocation.lambda_models import FunctionVersion, InvocationResult
from localstack.services.lambda_.invocation.runtime_executor import (
    LambdaRuntimeException,
    RuntimeExecutor,
)

LOG = logging.getLogger(__name__)

NAME = "local-process"
RUNTIME_PREFIX = "/2018-06-01/runtime"
# Debian's qemu-user and libc6-arm64-cross (scripts/setup.sh installs both): the arm64 glibc lives here.
QEMU_SYSROOT = os.environ.get("IMGRESIZE_QEMU_SYSROOT", "/usr/aarch64-linux-gnu")
# Output kept per process for get_logs() and the CloudWatch copy: enough for a few hundred JSON log lines,
# bounded so a chatty function cannot grow LocalStack without limit.
MAX_LOG_CHARS = 256 * 1024
# How often waiting loops look at the process and the stop flag: well under the 81 ms a cold invoke takes.
POLL_SECONDS = 0.02

_LIVE: set["_Process"] = set()
_LIVE_LOCK = threading.Lock()


def _kill_all_at_exit() -> None:
    with _LIVE_LOCK:
        processes = list(_LIVE)
    for process in processes:
        process.retire()


atexit.register(_kill_all_at_exit)


class _Invocation:
    """One event handed to the runtime, and what it answered."""

    def __init__(self, request_id: str, body: bytes, headers: dict[str, str]):
        self.request_id = request_id
        self.body = body
        self.headers = headers
        self.done = threading.Event()
        self.payload: bytes = b""
        self.is_error = False

    def answer(self, payload: bytes, is_error: bool) -> bool:
        """Records the first answer only: a late one (after a timeout) changes nothing."""
        if self.done.is_set():
            return False
        self.payload, self.is_error = payload, is_error
        self.done.set()
        return True


class _Process:
    """One ``bootstrap`` process and the Runtime API server it alone talks to."""

    def __init__(self, executor_id: str, argv: list[str], env: dict[str, str], cwd: str):
        self.executor_id = executor_id
        self.pending: queue.Queue[_Invocation] = queue.Queue()
        self.invocations: dict[str, _Invocation] = {}
        self.ready = threading.Event()
        self.init_error: bytes | None = None
        self.retired = threading.Event()
        self._logs: list[str] = []
        self._log_chars = 0
        self._log_lock = threading.Lock()

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self.server.daemon_threads = True  # a handler stuck in a long-poll never blocks server_close()
        self.port = self.server.server_address[1]
        threading.Thread(
            target=self.server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"lambda-runtime-api-{executor_id}",
            daemon=True,
        ).start()

        env = dict(env, AWS_LAMBDA_RUNTIME_API=f"127.0.0.1:{self.port}")
        try:
            self.proc = subprocess.Popen(
                argv,
                env=env,
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                # Its own process group, so a kill reaches whatever the function started too (a shell
                # bootstrap's children). The IMGRESIZE_EMULATOR marker still ties it to the emulator's run.
                start_new_session=True,
            )
        except OSError as e:
            self._close_server()
            raise LambdaRuntimeException(f"cannot start {argv[0]}: {e}") from e
        with _LIVE_LOCK:
            _LIVE.add(self)
        threading.Thread(target=self._read_output, name=f"lambda-output-{executor_id}", daemon=True).start()

    def _read_output(self) -> None:
        stream = self.proc.stdout
        if stream is None:
            return
        for raw in stream:
            self.log(raw.decode("utf-8", "replace"))

    def log(self, text: str) -> None:
        with self._log_lock:
            self._logs.append(text)
            self._log_chars += len(text)
            while self._log_chars > MAX_LOG_CHARS and len(self._logs) > 1:
                self._log_chars -= len(self._logs.pop(0))

    def logs(self) -> str:
        with self._log_lock:
            return "".join(self._logs)

    def alive(self) -> bool:
        return not self.retired.is_set() and self.proc.poll() is None

    def exit_description(self) -> str:
        code = self.proc.poll()
        if code is None:
            return "still running"
        if code < 0:
            return f"signal: {_signal_name(-code)}"
        return f"exit status {code}"

    def retire(self) -> None:
        """Kills the process and closes its server; safe to repeat and to call from any thread."""
        self.retired.set()
        try:
            # The group outlives its leader while any member lives: kill it whether or not the leader exited.
            os.killpg(self.proc.pid, signal.SIGKILL)
        except OSError:
            pass  # the whole group is gone already
        try:
            self.proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            LOG.warning("lambda process %s did not exit after SIGKILL", self.proc.pid)
        self._close_server()
        with _LIVE_LOCK:
            _LIVE.discard(self)

    def _close_server(self) -> None:
        # shutdown() waits for serve_forever to return: at most one poll interval.
        self.server.shutdown()
        self.server.server_close()


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name.removeprefix("SIG").lower()
    except ValueError:
        return str(number)


def _handler_for(process: _Process) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        # lambda_runtime (hyper) keeps connections alive: answer HTTP/1.1, always with a Content-Length.
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args) -> None:  # noqa: A002 (the base class's name)
            pass  # LocalStack's log is no place for one line per poll

        def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _body(self) -> bytes:
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length > 0 else b""

        def do_GET(self) -> None:
            if self.path != f"{RUNTIME_PREFIX}/invocation/next":
                self._send(404, b'{"errorType":"NotFound"}')
                return
            process.ready.set()
            # Long-poll for this process's own queue only; give up once the process is retired.
            while not process.retired.is_set():
                try:
                    invocation = process.pending.get(timeout=0.1)
                except queue.Empty:
                    continue
                try:
                    self._send(200, invocation.body, invocation.headers)
                except OSError:
                    # The runtime went away mid-answer: the invoker sees the dead process and reports it.
                    pass
                return
            self._send(410, b'{"errorType":"EnvironmentStopped"}')

        def do_POST(self) -> None:
            body = self._body()
            path = self.path
            if path == f"{RUNTIME_PREFIX}/init/error":
                process.init_error = _error_document(body, self.headers, "Runtime.InitError")
                self._send(202, b'{"status":"OK"}')
                return
            prefix = f"{RUNTIME_PREFIX}/invocation/"
            if path.startswith(prefix):
                request_id, _, kind = path[len(prefix) :].partition("/")
                invocation = process.invocations.get(request_id)
                if invocation is None or kind not in ("response", "error"):
                    self._send(400, b'{"errorType":"InvalidRequestID"}')
                    return
                if kind == "response":
                    invocation.answer(body, is_error=False)
                else:
                    invocation.answer(_error_document(body, self.headers, "Unhandled"), is_error=True)
                self._send(202, b'{"status":"OK"}')
                return
            self._send(404, b'{"errorType":"NotFound"}')

    return Handler


def _error_document(body: bytes, headers, default_type: str) -> bytes:
    """The runtime's error as AWS returns it: ``{"errorType", "errorMessage", ...}``."""
    try:
        document = json.loads(body)
        if isinstance(document, dict) and "errorType" in document:
            return body
    except ValueError:
        pass
    error_type = headers.get("Lambda-Runtime-Function-Error-Type") or default_type
    return json.dumps({"errorType": error_type, "errorMessage": body.decode("utf-8", "replace")}).encode()


def _error_result(request_id: str, error_type: str, message: str, logs: str) -> InvocationResult:
    payload = json.dumps({"errorType": error_type, "errorMessage": f"RequestId: {request_id} Error: {message}"})
    return InvocationResult(request_id=request_id, payload=payload.encode(), is_error=True, logs=logs)


class LocalProcessRuntimeExecutor(RuntimeExecutor):
    """One execution environment: a ``bootstrap`` process, replaced when it dies or times out."""

    def __init__(self, id: str, function_version: FunctionVersion) -> None:  # noqa: A002 (LocalStack's name)
        super().__init__(id, function_version)
        self._env: dict[str, str] = {}
        self._process: _Process | None = None
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._old_logs = ""

    # --- where things are -------------------------------------------------------------------------------

    def get_address(self) -> str:
        return "127.0.0.1"

    def get_endpoint_from_executor(self) -> str:
        # The function runs on this host: LocalStack is at 127.0.0.1 (this becomes AWS_ENDPOINT_URL's host).
        return "127.0.0.1"

    def get_runtime_endpoint(self) -> str:
        # Only LocalStack's Go init calls this endpoint; given for completeness of the interface.
        return f"http://127.0.0.1:{config.GATEWAY_LISTEN[0].port}/_localstack_lambda/{self.id}"

    # --- life cycle --------------------------------------------------------------------------------------

    def _command(self) -> tuple[list[str], str]:
        code = self.function_version.config.code
        if code is None:
            raise LambdaRuntimeException("image functions are not supported by the local-process executor")
        task_root = Path(code.get_unzipped_code_location())
        bootstrap = task_root / "bootstrap"
        if not bootstrap.is_file():
            raise LambdaRuntimeException(f"the function's zip has no bootstrap at its root ({task_root})")
        argv = [str(bootstrap)]
        if _needs_qemu(self.function_version):
            argv = [_qemu(), "-L", QEMU_SYSROOT, str(bootstrap)]
        return argv, str(task_root)

    def _spawn(self) -> _Process:
        argv, task_root = self._command()
        env = {name: str(value) for name, value in self._env.items() if value is not None}
        # The function runs from its unzipped folder, not /var/task.
        env["LAMBDA_TASK_ROOT"] = task_root
        env.setdefault("PATH", "/usr/local/bin:/usr/bin:/bin")
        env.setdefault("LANG", "C.UTF-8")
        # scripts/emulator.sh finds every process of its run by this marker: carry it to the child.
        for marker in ("IMGRESIZE_EMULATOR",):
            if marker in os.environ:
                env[marker] = os.environ[marker]
        process = _Process(self.id, argv, env, task_root)
        deadline = time.monotonic() + float(config.LAMBDA_RUNTIME_ENVIRONMENT_TIMEOUT)
        while not process.ready.wait(POLL_SECONDS):
            failure = None
            if self._stopped.is_set():
                failure = "the environment was stopped while starting"
            elif process.init_error is not None:
                failure = f"init error: {process.init_error.decode('utf-8', 'replace')}"
            elif process.proc.poll() is not None:
                failure = f"the runtime exited during init ({process.exit_description()})"
            elif time.monotonic() > deadline:
                failure = "the runtime did not poll for an invocation in time"
            if failure:
                process.retire()
                raise LambdaRuntimeException(f"{failure}; output:\n{process.logs()[-4000:]}")
        return process

    def start(self, env_vars: dict[str, str]) -> None:
        # LocalStack builds some values as ints (memory size, timeout): the environment wants strings.
        self._env = {str(k): str(v) for k, v in env_vars.items() if v is not None}
        with self._lock:
            if self._stopped.is_set():
                raise LambdaRuntimeException("executor already stopped")
            self._process = self._spawn()
        LOG.debug("local-process executor %s: %s ready", self.id, self._process.proc.pid)

    def stop(self) -> None:
        self._stopped.set()
        process, self._process = self._process, None
        if process is not None:
            self._old_logs += process.logs()
            process.retire()

    # --- invocations ---------------------------------------------------------------------------------------

    def invoke(self, payload: dict[str, str]) -> InvocationResult:
        request_id = str(payload.get("invoke-id") or "")
        try:
            return self._invoke(request_id, payload)
        except Exception as e:  # noqa: BLE001 (any failure must reach the caller as a function error)
            LOG.warning("local-process executor %s: invocation %s failed: %s", self.id, request_id, e)
            return _error_result(request_id, "Runtime.ExitError", str(e), self.get_logs()[-4000:])

    def _invoke(self, request_id: str, payload: dict[str, str]) -> InvocationResult:
        with self._lock:
            if self._stopped.is_set():
                return _error_result(request_id, "Runtime.ExitError", "the environment was stopped", "")
            process = self._process
            if process is None or not process.alive():
                # The last process crashed or timed out: a fresh one (and a fresh server) takes over.
                if process is not None:
                    self._old_logs = (self._old_logs + process.logs())[-MAX_LOG_CHARS:]
                    process.retire()
                try:
                    process = self._process = self._spawn()
                except LambdaRuntimeException as e:
                    self._process = None
                    return _error_result(request_id, "Runtime.ExitError", str(e), "")

        timeout = float(self.function_version.config.timeout)
        started = time.monotonic()
        deadline_ms = int((time.time() + timeout) * 1000)
        headers = {
            "Lambda-Runtime-Aws-Request-Id": request_id,
            "Lambda-Runtime-Deadline-Ms": str(deadline_ms),
            "Lambda-Runtime-Invoked-Function-Arn": str(payload.get("invoked-function-arn") or ""),
            "Lambda-Runtime-Trace-Id": str(payload.get("trace-id") or ""),
        }
        body = str(payload.get("payload") or "").encode("utf-8")
        invocation = _Invocation(request_id, body, headers)
        log_start = len(process.logs())
        process.log(f"START RequestId: {request_id} Version: {self.function_version.id.qualifier}\n")
        process.invocations[request_id] = invocation
        process.pending.put(invocation)

        result: InvocationResult | None = None
        while not invocation.done.wait(POLL_SECONDS):
            if self._stopped.is_set():
                result = _error_result(request_id, "Runtime.ExitError", "the environment was stopped", "")
                break
            if process.proc.poll() is not None:
                message = f"Runtime exited with error: {process.exit_description()}"
                result = _error_result(request_id, "Runtime.ExitError", message, "")
                break
            if time.monotonic() - started >= timeout:
                # The process may be mid-write to S3: kill it, so nothing of this invocation goes on later.
                process.retire()
                message = f"Task timed out after {timeout:.2f} seconds"
                result = _error_result(request_id, "Sandbox.Timedout", message, "")
                break
        process.invocations.pop(request_id, None)
        elapsed_ms = (time.monotonic() - started) * 1000
        process.log(f"END RequestId: {request_id}\nREPORT RequestId: {request_id}\tDuration: {elapsed_ms:.2f} ms\n")
        logs = process.logs()[log_start:]
        if result is None:
            return InvocationResult(
                request_id=request_id, payload=invocation.payload, is_error=invocation.is_error, logs=logs
            )
        result.logs = logs
        return result

    def get_logs(self) -> str:
        process = self._process
        return self._old_logs + (process.logs() if process is not None else "")

    # --- versions --------------------------------------------------------------------------------------------

    @classmethod
    def prepare_version(cls, function_version: FunctionVersion) -> None:
        if _needs_qemu(function_version):
            _qemu()  # fail the function's creation (state Failed, with the reason) rather than each invoke
        if function_version.config.code:
            # Unzipped atomically, mode 755, at get_unzipped_code_location().
            function_version.config.code.prepare_for_execution()

    @classmethod
    def cleanup_version(cls, function_version: FunctionVersion) -> None:
        pass  # LocalStack removes the unzipped code itself when the version goes

    @classmethod
    def validate_environment(cls) -> bool:
        return True


def _needs_qemu(function_version: FunctionVersion) -> bool:
    architectures = function_version.config.architectures or ["x86_64"]
    host_is_arm = platform.machine().lower() in ("aarch64", "arm64")
    return architectures[0] == "arm64" and not host_is_arm


def _qemu() -> str:
    for name in ("qemu-aarch64", "qemu-aarch64-static"):
        found = shutil.which(name)
        if found:
            if not Path(QEMU_SYSROOT).is_dir():
                raise LambdaRuntimeException(
                    f"{QEMU_SYSROOT} is missing: apt-get install libc6-arm64-cross (scripts/setup.sh does)"
                )
            return found
    raise LambdaRuntimeException(
        "an arm64 function needs qemu-aarch64 on this host: apt-get install qemu-user libc6-arm64-cross "
        "(scripts/setup.sh does)"
    )
