"""LocalStack start.d init script; scripts/emulator.sh copies it into every emulator it starts.

Registers the project's Lambda runtime executor (scripts/localstack/local_process_executor.py) as the plux
plugin `local-process` in LocalStack's `localstack.lambda.runtime_executor` namespace, so that
LAMBDA_RUNTIME_EXECUTOR=local-process (set by scripts/emulator.sh) runs functions as local processes instead
of Docker containers, which this machine does not have. `get_runtime_executor()` reads the module global
EXECUTOR_PLUGIN_MANAGER at call time, so replacing it here, before the first function is created, is enough:
no package needs installing. The module's folder comes from IMGRESIZE_LOCALSTACK_LIB (set by emulator.sh),
since this file runs from a copy.
"""

import os
import sys

from localstack.services.lambda_.invocation import runtime_executor as _runtime_executor
from localstack.services.lambda_.invocation.plugins import RuntimeExecutorPlugin
from plux import PluginManager, PluginSpec
from plux.runtime.resolve import MetadataPluginFinder

_lib = os.environ["IMGRESIZE_LOCALSTACK_LIB"]
if _lib not in sys.path:
    sys.path.insert(0, _lib)

import local_process_executor as _executor  # noqa: E402 (needs the path above)


class _LocalProcessPlugin(RuntimeExecutorPlugin):
    name = _executor.NAME

    def load(self, *args, **kwargs):
        return _executor.LocalProcessRuntimeExecutor


class _Finder:
    """The installed executors (docker) plus ours."""

    def __init__(self, namespace):
        self._installed = MetadataPluginFinder(namespace)
        self._namespace = namespace

    def find_plugins(self):
        return [*self._installed.find_plugins(), PluginSpec(self._namespace, _executor.NAME, _LocalProcessPlugin)]


_namespace = RuntimeExecutorPlugin.namespace
_runtime_executor.EXECUTOR_PLUGIN_MANAGER = PluginManager(_namespace, finder=_Finder(_namespace))
assert _runtime_executor.EXECUTOR_PLUGIN_MANAGER.exists(_executor.NAME)
