"""LocalStack start.d init script; scripts/emulator.sh copies it into every emulator it starts.

Works around a LocalStack bug (upstream issues 11970 and 13336, fix not merged as of localstack-core 2026.3.0):
EventBridge's Step Functions target names the execution after event["id"], which an event reshaped by an
InputTransformer (or InputPath) no longer has, so delivery fails with "TargetDeliveryFailure ... 'id'".
The replacement keeps the event id as the execution name when the event is untouched and uses a fresh uid
otherwise, and passes the (transformed) event as the execution input, as AWS does.
"""

from localstack.services.events import target as _target
from localstack.utils.strings import long_uid

_RESHAPING_KEYS = ("Input", "InputPath", "InputTransformer")


def _send_event(self, event, trace_header):
    self.service = "stepfunctions"
    reshaped = any(self.target.get(key) for key in _RESHAPING_KEYS)
    if not reshaped and isinstance(event, dict) and event.get("id"):
        name = event["id"]
    else:
        name = long_uid()
    # A non-JSON input template yields text: AWS passes it through unchanged, so do the same.
    payload = event if isinstance(event, str) else _target.to_json_str(event)
    self.client.start_execution(stateMachineArn=self.target["Arn"], name=name, input=payload)


_send_event.imgresize_patch = True  # lets tests assert the patch is active
_target.StatesTargetSender.send_event = _send_event
