"""LocalStack start.d init script; scripts/emulator.sh copies it into every emulator it starts.

Fixes an intermittent hang on SIGTERM (about 1 stop in 8 here, localstack-core 2026.3.0 with
GATEWAY_SERVER=hypercorn): HypercornRuntimeServer.shutdown calls loop.stop() from another thread, which does
not wake an event loop blocked in select(), so the process idles until killed. Waking the loop after stop()
lets it notice and return, and LocalStack then shuts down in about a second.
"""

from localstack.runtime.server import hypercorn as _hypercorn

_original_shutdown = _hypercorn.HypercornRuntimeServer.shutdown


def _shutdown(self):
    _original_shutdown(self)
    try:
        self.loop.call_soon_threadsafe(lambda: None)  # any callback wakes select()
    except RuntimeError:
        pass  # the loop already closed: nothing left to wake


_shutdown.imgresize_patch = True
_hypercorn.HypercornRuntimeServer.shutdown = _shutdown
