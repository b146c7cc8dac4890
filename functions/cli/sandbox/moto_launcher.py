"""Starts moto_server (5.2.x) with two gaps closed that the sandbox and integration tests need.

1. EventBridge cross-account forwarding: moto re-puts a forwarded event as a new event of the
   receiving account, so `account`, `region`, `id` and `resources` change. Real EventBridge keeps
   the member account's envelope when a rule forwards to another account's bus; the notify
   function relies on that to name the account.
2. EventBridge delivery to targets: moto's default input template drops the envelope's
   `account` field. Real targets receive the whole event.
3. Organizations BACKUP_POLICY: moto lists the type as supported but CreatePolicy fails with
   NotImplementedError (HTTP 500). Give it the ARN format real backup policies have.
4. IAM AWS managed policies: loading all ~1,500 of them (MOTO_IAM_LOAD_MANAGED_POLICIES) costs
   seconds for every account moto touches; without them, attaching the AWS Backup service
   policies fails. Load only the AWS Backup ones.
5. SES SendEmail: moto keeps only one body part (HTML if present). Keep both, so the sandbox can
   show the HTML and the text part that SES received.

Usage: python3 moto_launcher.py -H 127.0.0.1 -p PORT
"""

import copy
import json
import sys

try:
    import moto  # noqa: F401
    from moto.events import models as events_models
    from moto.events import utils as events_utils
    from moto.iam import models as iam_models
    from moto.organizations import models as organizations_models
    from moto.server import main as moto_main
    from moto.ses import responses as ses_responses
    from moto.utilities.arns import parse_arn
except ImportError as error:  # pragma: no cover - reported to the user by the caller
    sys.stderr.write(f"moto is not installed ({error}): pip install \"moto[server]\"\n")
    sys.exit(3)

if not moto.__version__.startswith("5."):
    sys.stderr.write(f"moto {moto.__version__} found; this launcher is written for moto 5.2.x\n")


def _is_bus(target):
    arn = parse_arn(target["Arn"])
    return arn.service == "events" and arn.resource_type == "event-bus"


_original_send_to_targets = events_models.Rule.send_to_targets


def send_to_targets(self, original_event, transform_input=True):
    bus_targets = [t for t in self.targets if _is_bus(t)]
    if not bus_targets:
        return _original_send_to_targets(self, original_event, transform_input)
    if not self.event_pattern.matches_event(original_event):
        return None
    saved = self.targets
    try:
        self.targets = [t for t in saved if not _is_bus(t)]
        _original_send_to_targets(self, original_event, transform_input)
    finally:
        self.targets = saved
    for target in bus_targets:
        arn = parse_arn(target["Arn"])
        backend = events_models.events_backends[arn.account][arn.region]
        bus = backend.describe_event_bus(arn.resource_id)
        for rule in list(bus.rules.values()):
            rule.send_to_targets(copy.deepcopy(original_event))
    return None


events_models.Rule.send_to_targets = send_to_targets

events_utils.EventTemplateParser.DEFAULT_EVENT_INPUT_TEMPLATE = (
    '{"version": "0", "id": "<id>", "detail-type": "<detail-type>", "source": "<source>", '
    '"account": "<account>", "time": <time>, "region": "<region>", "resources": <resources>, '
    '"detail": <detail>}'
)

_all_managed = json.loads(iam_models.aws_managed_policies_data)
iam_models.aws_managed_policies_data = json.dumps(
    {name: policy for name, policy in _all_managed.items() if "Backup" in name}
)
iam_models.load_iam_aws_managed_policies = lambda: True

_original_policy_init = organizations_models.FakePolicy.__init__


def policy_init(self, organization, **kwargs):
    if kwargs.get("Type") != "BACKUP_POLICY":
        return _original_policy_init(self, organization, **kwargs)
    _original_policy_init(self, organization, **{**kwargs, "Type": "TAG_POLICY"})
    self.type = "BACKUP_POLICY"
    self._arn_format = "arn:{0}:organizations::{1}:policy/{2}/backup_policy/{3}"
    return None


organizations_models.FakePolicy.__init__ = policy_init

_original_send_email = ses_responses.EmailResponse.send_email


def send_email(self):
    result = _original_send_email(self)
    message = self.backend.sent_messages[-1]
    message.html = self._get_param("Message.Body.Html.Data")
    message.text = self._get_param("Message.Body.Text.Data")
    return result


ses_responses.EmailResponse.send_email = send_email

if __name__ == "__main__":
    moto_main(sys.argv[1:])
