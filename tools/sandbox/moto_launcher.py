"""Starts moto_server (5.2.x) with the gaps closed that the sandbox and integration tests need.

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
   show the HTML and the text part that SES received. GetAccountSendingEnabled (not in moto):
   Enabled true, as for an account whose sending nobody paused.
6. AWS Backup job history (moto 5.2 has plans, vaults, vault lock, tags and report plans only).
   Stored per account and region on moto's BackupBackend, so POST /moto-api/reset empties it:
   ListBackupJobs, ListCopyJobs, ListRestoreJobs (the service model's filters, MaxResults and
   NextToken, newest first), DescribeBackupJob, DescribeCopyJob, DescribeRestoreJob,
   ListProtectedResources (one entry per resource with a COMPLETED backup job),
   ListRecoveryPointsByBackupVault (recovery points of COMPLETED backup and copy jobs) and
   ListBackupJobSummaries, all computed from the jobs the sandbox records (see 8).
   Simplifications: ByAccountId (`*` or another account's id) and the summaries' AccountId
   ANY / AGGREGATE_ALL reach other accounts only when the caller is the organization's management
   account or AWS Backup's registered delegated administrator; any other caller sees its own jobs. No
   30-day retention window: every recorded job is listed. Summaries count jobs by CreationDate;
   ONE_DAY gives one row per UTC day of the last 14 days (as the model documents), SEVEN_DAYS
   and FOURTEEN_DAYS one row for the period up to now; an omitted State, ResourceType or
   MessageCategory means ANY (one row per value), an omitted AccountId the caller's account.
   A COMPLETED copy job into another account's vault is judged as AWS Backup would: it ends
   FAILED ("Access Denied trying to call AWS Backup service", no recovery point) unless that
   vault exists and its access policy allows backup:CopyIntoBackupVault to the source account
   or to everyone with aws:PrincipalOrgID of the source's organization (keys, Vault Lock and
   the global cross-account setting are not judged).
   ListRecoveryPointsByBackupVault answers ResourceNotFoundException for a vault that does not
   exist in moto (recording a job creates no vault); its BackupVaultAccountId is ignored.
7. AWS Backup settings and vault access policies: DescribeRegionSettings / UpdateRegionSettings
   (per account and region; opt-in defaults as for a new account: the long-standing services
   true, CloudFormation, Redshift, S3, SAP HANA on Amazon EC2 and Timestream false; management
   preference DynamoDB and EFS true), DescribeGlobalSettings / UpdateGlobalSettings (per account;
   isCrossAccountBackupEnabled, isMpaEnabled, isDelegatedAdministratorEnabled, all "false" until
   updated; LastUpdateTime only once updated; Describe needs an organization and answers the
   organization's settings, those of its management account, to any member; Update the
   management account, as AWS documents), and Put/Get/DeleteBackupVaultAccessPolicy
   (ResourceNotFoundException for an unknown vault or, on Get, a vault without policy);
   CreateLogicallyAirGappedBackupVault (not in moto): a vault locked from the start with its
   MinRetentionDays (at least 7) and MaxRetentionDays, DescribeBackupVault answering VaultType
   LOGICALLY_AIR_GAPPED_BACKUP_VAULT and VaultState AVAILABLE (no RAM sharing, no restore testing).
8. Sandbox control endpoints (NOT AWS APIs, plain JSON, no signature):
   POST /_sandbox/backup/jobs records a job as AWS Backup would run it:
     {"accountId": "229321235189", "region": "us-east-1", "jobType": "backup"|"copy"|"restore",
      "state": "COMPLETED" (restore jobs: also "status"), "resourceArn": "arn:...",
      "resourceType": "DynamoDB" (default: from the ARN), "resourceName", "backupVaultName"
      (default "Default"), "statusMessage", "messageCategory", "creationDate" / "completionDate"
      / "startBy" (epoch seconds or ISO 8601), "createdBy": {"backupPlanId", "backupPlanArn",
      "backupPlanVersion", "backupRuleId"}, "iamRoleArn", "backupSizeInBytes", "percentDone",
      "recoveryPointArn", copy: "destinationBackupVaultArn" (required), "sourceRecoveryPointArn",
      "destinationRecoveryPointArn", restore: "createdResourceArn", "emit": true, "jobId"}
   Defaults: accountId 123456789012, region us-east-1, jobType backup, state COMPLETED,
   creationDate now, completionDate now for a final state, startBy creationDate + 8 h. The same
   jobId (same account, region and type) updates the job: fields not given are kept. A COMPLETED
   job also records the protected resource and the recovery point (in the destination vault's
   account and region for a copy; the vault's NumberOfRecoveryPoints follows when it exists).
   With "emit": true (default) the job's state change event is put on the default bus of the
   job's account and region through moto's events backend (source aws.backup, detail-type
   Backup/Copy/Restore Job State Change, resources [recovery point ARN] when there is one, detail
   as AWS documents it: ISO dates with milliseconds, backupSizeInBytes a string for backup and
   restore jobs and a number for copy jobs as in AWS's examples, event time = completionDate or
   creationDate); "emit": false records a job whose event EventBridge dropped. Answers
   {"jobType", "jobId", "accountId", "region", "eventId" (null when not emitted), "job": the job
   as the Describe API shapes it, dates as epoch seconds}. GET /_sandbox/backup/jobs answers
   {"jobs": [...]}, every recorded job (query accountId, region, jobType narrow it).
   POST /_sandbox/cloudtrail/events records a CloudTrail management event for LookupEvents:
     {"accountId", "region", "eventName", "eventSource", "username", "eventTime", "eventId",
      "readOnly", "accessKeyId", "resources": [{"ResourceType", "ResourceName"}],
      "cloudTrailEvent": {...} (returned as a JSON string; default: a minimal record)}
   and answers the stored event; GET /_sandbox/cloudtrail/events lists them all ({"events"}).
9. Organizations DescribeEffectivePolicy for the management policy types moto stores
   (BACKUP_POLICY, TAG_POLICY, AISERVICES_OPT_OUT_POLICY) and an account target (default: the
   caller): the policies attached to the root, each OU down to the account, then the account,
   merged in that order with a simplified inheritance: keys compared lower-cased (the first
   spelling is kept), nested objects merged key by key, @@assign replaces, @@append adds to a
   list, @@remove removes from it, a bare value assigns, child-control operators
   (@@operators_allowed_for_child_policies) ignored. PolicyContent is the merged JSON with the
   operators resolved; LastUpdatedTimestamp is the newest create/update of a contributing policy.
   No such policy: EffectivePolicyNotFoundException; a root/OU target: InvalidInputException; a
   member asking about another account: AccessDeniedException.
10. CloudTrail LookupEvents over the events recorded through 8 (caller's account and region):
    one LookupAttribute (any key of the model), StartTime / EndTime inclusive, MaxResults (1-50,
    default 50) / NextToken, newest first; the model's Invalid*Exception errors. No 90-day window.
11. Resource Groups Tagging API GetResources: moto 5.2 already returns tagged DynamoDB tables,
    EC2 instances and volumes and RDS instances of the calling (member) account; no patch.
12. STS AssumeRole of a role the control plane owns (backup-control-plane-*) that does not exist
    in the target account fails with AccessDenied, as in AWS (moto lets any ARN be assumed).
    Other roles (OrganizationAccountAccessRole, which moto never creates) stay assumable.
13. DynamoDB requests are served one at a time: moto's tables are plain dicts in a threaded server,
    so concurrent writes to one item could lose an update; DynamoDB applies each write atomically.
14. Organizations delegated administrators and the resource-based delegation policy (the
    delegated-administrator mode's `backupctl setup` and doctor): RegisterDelegatedAdministrator
    accepts backup.amazonaws.com and member.org.stacksets.cloudformation.amazonaws.com (moto
    knows six other services only) and, as Organizations does, refuses a service whose trusted
    access is off (ConstraintViolationException, SERVICE_ACCESS_NOT_ENABLED); Put/Describe/
    DeleteResourcePolicy (moto: NotImplementedError), one policy per organization: Put and Delete
    by the management account only, Describe also by a delegated administrator;
    ResourcePolicyNotFoundException when there is none. What it delegates is evaluated by 15
    (actions and principals only); its exact statements are checked on the document (unit tests).

15. A delegated administrator's Organizations calls (moto answers a member account from its own,
    empty backend): an account registered as delegated administrator for any service reads the
    organization as AWS lets every delegated administrator read it (Describe/List of the
    organization, its accounts, OUs, parents, children, tags, policies, targets, services and
    delegated administrators, and effective policies of any account), served by the management
    account's backend; any other call (CreatePolicy, AttachPolicy, TagResource, ...) only when
    the Organizations resource policy (14) has an Allow statement naming the account (its id or
    root ARN, or "*") and the action (or organizations:*), else AccessDeniedException. The
    statement's Resource and Condition are not evaluated. Other members: as moto answers.

16. CloudFormation AWS::IAM::Role: moto ignores ManagedPolicyArns (the role is created without
    them): attach each, as CloudFormation does (the member role StackSet's template attaches the
    AWS Backup service policies to the baseline's service role); and it stores an inline policy
    given as an object as that object, answering GetRolePolicy with its Python repr: store JSON.
17. CloudFormation ActivateOrganizationsAccess / DescribeOrganizationsAccess (moto:
    NotImplementedError): StackSets' trusted access in Organizations, as AWS keeps it (the
    service principal member.org.stacksets.cloudformation.amazonaws.com), so `backupctl setup`
    and doctor run by hand against the sandbox as they do in it.

Usage: python3 moto_launcher.py -H 127.0.0.1 -p PORT
"""

import base64
import copy
import json
import re
import sys
import threading
import uuid
from datetime import datetime, timedelta, timezone

try:
    import moto  # noqa: F401
    from moto.backup import exceptions as backup_exceptions
    from moto.backup import models as backup_models
    from moto.backup import responses as backup_responses
    from moto.backup import urls as backup_urls
    from moto.cloudtrail import models as cloudtrail_models
    from moto.cloudtrail import responses as cloudtrail_responses
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.core.exceptions import ServiceException
    from moto.core.responses import ActionResult, EmptyResult
    from moto.events import models as events_models
    from moto.events import utils as events_utils
    from moto.iam import models as iam_models
    from moto.moto_server import werkzeug_app
    from moto.organizations import exceptions as organizations_exceptions
    from moto.organizations import models as organizations_models
    from moto.organizations import responses as organizations_responses
    from moto.server import main as moto_main
    from moto.ses import responses as ses_responses
    from moto.utilities.arns import parse_arn
    from moto.utilities.utils import get_partition
    from werkzeug.wrappers import Request, Response
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


def get_account_sending_enabled(self):
    return ActionResult({"Enabled": True})


ses_responses.EmailResponse.get_account_sending_enabled = get_account_sending_enabled

# --- Shared helpers for 6-10 ------------------------------------------------------------------

_store_lock = threading.RLock()  # moto_server is threaded; our stores are plain dicts
_ACCOUNT_ID = re.compile(r"^[0-9]{12}$")


def _now():
    return datetime.now(timezone.utc).replace(tzinfo=None)  # moto's naive UTC


def _to_datetime(value, name="date"):
    """Epoch seconds (number or numeric string), ISO 8601 or a datetime -> naive UTC."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, (int, float)) or re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", str(value)):
        parsed = datetime.fromtimestamp(float(value), timezone.utc)
    else:
        try:
            parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError as error:
            raise _SandboxError(400, f"{name}: not epoch seconds nor ISO 8601: {value}") from error
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(timezone.utc).replace(tzinfo=None)
    return parsed


def _epoch(value):
    return None if value is None else round(value.replace(tzinfo=timezone.utc).timestamp(), 3)


def _iso_ms(value):
    """The form AWS Backup's events use: 2025-03-10T05:00:12.418Z."""
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def _compact(mapping):
    return {k: v for k, v in mapping.items() if v is not None}


def _jsonable(value):
    """Datetimes as epoch seconds, for the control endpoints' answers."""
    if isinstance(value, datetime):
        return _epoch(value)
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items() if not k.startswith("_")}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


def _page(items, max_results, next_token, error, limit=1000, default=None):
    """Offset pagination with an opaque token, as the APIs' MaxResults/NextToken."""
    if max_results is None:
        max_results = default or limit
    if not isinstance(max_results, int) or not 1 <= max_results <= limit:
        raise error(f"MaxResults must be between 1 and {limit}")
    start = 0
    if next_token:
        try:
            start = int(base64.urlsafe_b64decode(next_token.encode()).decode().split(":")[1])
        except (ValueError, IndexError) as exc:
            raise error("Invalid NextToken") from exc
    end = start + max_results
    token = None
    if end < len(items):
        token = base64.urlsafe_b64encode(f"offset:{end}".encode()).decode()
    return items[start:end], token


def _organization_of(account_id):
    """(organizations backend, org) of the organization the account belongs to, or (None, None).

    moto keeps a member -> management map that survives /moto-api/reset, hence the checks."""
    backends = organizations_models.organizations_backends
    management = account_id
    if account_id in backends.master_accounts:
        management = backends.master_accounts[account_id][0]
    backend = backends[management]["aws"]
    org = backend.org
    if org is None or account_id not in [a.id for a in backend.accounts]:
        return None, None
    return backend, org


def _managed_accounts(caller):
    """Account ids of the organization when the caller is its management account or AWS Backup's
    delegated administrator (cross-account monitoring), else None."""
    backend, org = _organization_of(caller)
    if org is None:
        return None
    delegated = any(a.account.id == caller and "backup.amazonaws.com" in a.services
                    for a in getattr(backend, "admins", []))
    if org.master_account_id != caller and not delegated:
        return None
    return [a.id for a in backend.accounts]


class _SandboxError(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


# --- 6 and 7. AWS Backup job history, settings, vault access policies -------------------------

_BACKUP_STATES = {
    "backup": ["CREATED", "PENDING", "RUNNING", "ABORTING", "ABORTED", "COMPLETED", "FAILED",
               "EXPIRED", "PARTIAL"],
    # ABORTED and CREATED are not in the API enums but AWS Backup emits them in events.
    "copy": ["CREATED", "RUNNING", "COMPLETED", "FAILED", "PARTIAL", "ABORTED"],
    "restore": ["CREATED", "PENDING", "RUNNING", "COMPLETED", "ABORTED", "FAILED"],
}
_FINAL_STATES = {"COMPLETED", "FAILED", "ABORTED", "EXPIRED", "PARTIAL"}
_JOB_ID_FIELD = {"backup": "BackupJobId", "copy": "CopyJobId", "restore": "RestoreJobId"}
_DETAIL_TYPE = {
    "backup": "Backup Job State Change",
    "copy": "Copy Job State Change",
    "restore": "Restore Job State Change",
}
_OPT_IN_DEFAULTS = {
    "Aurora": True, "CloudFormation": False, "DocumentDB": True, "DynamoDB": True, "EBS": True,
    "EC2": True, "EFS": True, "FSx": True, "Neptune": True, "RDS": True, "Redshift": False,
    "S3": False, "SAP HANA on Amazon EC2": False, "Storage Gateway": True, "Timestream": False,
    "VirtualMachine": True,
}
_MANAGEMENT_DEFAULTS = {"DynamoDB": True, "EFS": True}
_GLOBAL_SETTINGS = (
    "isCrossAccountBackupEnabled",
    "isMpaEnabled",
    "isDelegatedAdministratorEnabled",
)

InvalidParameterValue = backup_exceptions.InvalidParameterValueException
BackupNotFound = backup_exceptions.ResourceNotFoundException


class BackupInvalidRequest(backup_exceptions.InvalidRequestException):
    pass


_original_backup_init = backup_models.BackupBackend.__init__


def backup_init(self, region_name, account_id):
    _original_backup_init(self, region_name, account_id)
    # Rebuilt by BackupBackend.reset() (moto-api/reset), like the rest of the backend.
    self.sandbox_jobs = {"backup": {}, "copy": {}, "restore": {}}
    self.protected_resources = {}  # resource ARN -> ProtectedResource
    self.recovery_points = {}  # vault name -> {recovery point ARN -> RecoveryPointByBackupVault}
    self.region_settings = {
        "ResourceTypeOptInPreference": dict(_OPT_IN_DEFAULTS),
        "ResourceTypeManagementPreference": dict(_MANAGEMENT_DEFAULTS),
    }
    self.global_settings = {name: "false" for name in _GLOBAL_SETTINGS}
    self.global_settings_updated = None


backup_models.BackupBackend.__init__ = backup_init


def _backup_backend(account_id, region):
    return backup_models.backup_backends[account_id][region]


def _vault_arn(account_id, region, name):
    return f"arn:{get_partition(region)}:backup:{region}:{account_id}:backup-vault:{name}"


def _resource_type_from_arn(arn):
    try:
        parsed = parse_arn(arn)
    except Exception:  # noqa: BLE001 - anything unparsable has no type
        return None
    by_service = {"dynamodb": "DynamoDB", "elasticfilesystem": "EFS", "s3": "S3", "fsx": "FSx",
                  "storagegateway": "Storage Gateway", "docdb": "DocumentDB", "neptune": "Neptune",
                  "redshift": "Redshift", "cloudformation": "CloudFormation"}
    if parsed.service == "ec2":
        return "EBS" if parsed.resource_type == "volume" else "EC2"
    if parsed.service == "rds":
        return "Aurora" if parsed.resource_type == "cluster" else "RDS"
    return by_service.get(parsed.service)


def _resource_name_from_arn(arn):
    return re.split(r"[/:]", arn)[-1] if arn else None


def _recovery_point_arn(resource_type, account_id, region):
    partition = get_partition(region)
    short = uuid.uuid4().hex[:17]
    if resource_type == "EBS":
        return f"arn:{partition}:ec2:{region}::snapshot/snap-{short}"
    if resource_type == "EC2":
        return f"arn:{partition}:ec2:{region}::image/ami-{short}"
    rds = f"arn:{partition}:rds:{region}:{account_id}"
    if resource_type == "RDS":
        return f"{rds}:snapshot:awsbackup:job-{uuid.uuid4()}"
    if resource_type in ("Aurora", "DocumentDB", "Neptune"):
        return f"{rds}:cluster-snapshot:awsbackup:job-{uuid.uuid4()}"
    recovery_point = str(uuid.uuid4()).upper()
    return f"arn:{partition}:backup:{region}:{account_id}:recovery-point:{recovery_point}"


def _created_by(spec):
    given = spec.get("createdBy") or {}
    if not given:
        return None
    lower = {k[:1].lower() + k[1:]: v for k, v in given.items()}
    return _compact({
        "BackupPlanId": lower.get("backupPlanId"),
        "BackupPlanArn": lower.get("backupPlanArn"),
        "BackupPlanName": lower.get("backupPlanName"),
        "BackupPlanVersion": lower.get("backupPlanVersion"),
        "BackupRuleId": lower.get("backupRuleId") or lower.get("backupPlanRuleId"),
        "BackupRuleName": lower.get("backupRuleName"),
    })


def _build_job(kind, spec):
    """The job as the Describe/List APIs shape it (datetimes, omitted fields absent)."""
    account, region, state = spec["accountId"], spec["region"], spec["state"]
    vault_name = spec.get("backupVaultName") or "Default"
    vault_arn = _vault_arn(account, region, vault_name)
    percent = spec.get("percentDone")
    if percent is None:
        percent = 100.0 if state == "COMPLETED" else 0.0
    size = spec.get("backupSizeInBytes")
    if size is None:
        size = 1073741824 if state == "COMPLETED" else 0
    default_role = "role/service-role/AWSBackupDefaultServiceRole"
    common = {
        "AccountId": account,
        "ResourceArn": spec.get("resourceArn"),
        "ResourceType": spec.get("resourceType"),
        "ResourceName": spec.get("resourceName"),
        "CreationDate": spec["creationDate"],
        "CompletionDate": spec.get("completionDate"),
        "StatusMessage": spec.get("statusMessage"),
        "BackupSizeInBytes": int(size),
        "IamRoleArn": spec.get("iamRoleArn")
        or f"arn:{get_partition(region)}:iam::{account}:{default_role}",
        "MessageCategory": spec.get("messageCategory"),
        "IsParent": False,
    }
    if kind == "backup":
        return _compact({
            **common,
            "BackupJobId": spec["jobId"],
            "BackupVaultName": vault_name,
            "BackupVaultArn": vault_arn,
            "RecoveryPointArn": spec.get("recoveryPointArn"),
            "State": state,
            "PercentDone": str(float(percent)),
            "BytesTransferred": int(spec.get("bytesTransferred") or 0),
            "CreatedBy": _created_by(spec),
            "StartBy": spec.get("startBy"),
            "InitiationDate": spec["creationDate"],
        })
    if kind == "copy":
        return _compact({
            **common,
            "CopyJobId": spec["jobId"],
            "SourceBackupVaultArn": vault_arn,
            "SourceRecoveryPointArn": spec.get("sourceRecoveryPointArn"),
            "DestinationBackupVaultArn": spec.get("destinationBackupVaultArn"),
            "DestinationRecoveryPointArn": spec.get("destinationRecoveryPointArn"),
            "State": state,
            "CreatedBy": _created_by(spec),
        })
    restore = {**common, "ResourceArn": None, "ResourceName": None}
    return _compact({
        **restore,
        "RestoreJobId": spec["jobId"],
        "RecoveryPointArn": spec.get("recoveryPointArn"),
        "SourceResourceArn": spec.get("resourceArn"),
        "BackupVaultArn": vault_arn if spec.get("backupVaultName") else None,
        "Status": state,
        "PercentDone": str(float(percent)),
        "CreatedResourceArn": spec.get("createdResourceArn"),
    })


def _job_event(kind, job):
    """The EventBridge entry AWS Backup puts for the job's state (documented detail shapes)."""
    iso = lambda name: _iso_ms(job[name]) if job.get(name) else None  # noqa: E731
    percent = float(job.get("PercentDone", 0))
    percent = int(percent) if percent.is_integer() else percent
    created_by = job.get("CreatedBy")
    created_by = created_by and _compact({
        "backupPlanId": created_by.get("BackupPlanId"),
        "backupPlanArn": created_by.get("BackupPlanArn"),
        "backupPlanVersion": created_by.get("BackupPlanVersion"),
        "backupPlanRuleId": created_by.get("BackupRuleId"),
    })
    if kind == "backup":
        detail = {
            "backupJobId": job["BackupJobId"],
            "backupVaultArn": job["BackupVaultArn"],
            "backupVaultName": job["BackupVaultName"],
            "bytesTransferred": str(job.get("BytesTransferred", 0)),
            "creationDate": iso("CreationDate"),
            "iamRoleArn": job["IamRoleArn"],
            "resourceArn": job.get("ResourceArn"),
            "resourceType": job.get("ResourceType"),
            "backupSizeInBytes": str(job["BackupSizeInBytes"]),
            "state": job["State"],
            "statusMessage": job.get("StatusMessage"),
            "completionDate": iso("CompletionDate"),
            "startBy": iso("StartBy"),
            "percentDone": percent,
            "createdBy": created_by,
        }
        resources = [job["RecoveryPointArn"]] if job.get("RecoveryPointArn") else []
    elif kind == "copy":
        detail = {
            "copyJobId": job["CopyJobId"],
            "backupSizeInBytes": job["BackupSizeInBytes"],
            "creationDate": iso("CreationDate"),
            "iamRoleArn": job["IamRoleArn"],
            "resourceArn": job.get("ResourceArn"),
            "resourceType": job.get("ResourceType"),
            "sourceBackupVaultArn": job["SourceBackupVaultArn"],
            "sourceRecoveryPointArn": job.get("SourceRecoveryPointArn"),
            "state": job["State"],
            "statusMessage": job.get("StatusMessage"),
            "completionDate": iso("CompletionDate"),
            "destinationBackupVaultArn": job.get("DestinationBackupVaultArn"),
            "destinationRecoveryPointArn": job.get("DestinationRecoveryPointArn"),
            "createdBy": created_by,
        }
        resources = [job["SourceRecoveryPointArn"]] if job.get("SourceRecoveryPointArn") else []
    else:
        detail = {
            "restoreJobId": job["RestoreJobId"],
            "backupSizeInBytes": str(job["BackupSizeInBytes"]),
            "creationDate": iso("CreationDate"),
            "iamRoleArn": job["IamRoleArn"],
            "recoveryPointArn": job.get("RecoveryPointArn"),
            "resourceType": job.get("ResourceType"),
            "backupVaultArn": job.get("BackupVaultArn"),
            "sourceResourceArn": job.get("SourceResourceArn"),
            "percentDone": percent,
            "status": job["Status"],
            "statusMessage": job.get("StatusMessage"),
            "createdResourceArn": job.get("CreatedResourceArn"),
            "completionDate": iso("CompletionDate"),
        }
        resources = [job["RecoveryPointArn"]] if job.get("RecoveryPointArn") else []
    when = job.get("CompletionDate") or job["CreationDate"]
    return {
        "Source": "aws.backup",
        "DetailType": _DETAIL_TYPE[kind],
        "Detail": json.dumps(_compact(detail)),
        "Resources": resources,
        "Time": _epoch(when),
    }


def _store_recovery_point(account, region, vault_name, point):
    backend = _backup_backend(account, region)
    points = backend.recovery_points.setdefault(vault_name, {})
    points[point["RecoveryPointArn"]] = point
    vault = backend.vaults.get(vault_name)
    if vault is not None:
        vault.num_of_recovery_points = len(points)


def _job_completed(kind, job, backend):
    """What a COMPLETED job leaves behind: the protected resource and the recovery point."""
    if kind == "backup":
        resource = job.get("ResourceArn")
        current = backend.protected_resources.get(resource)
        if current is None or current["LastBackupTime"] <= job["CompletionDate"]:
            backend.protected_resources[resource] = _compact({
                "ResourceArn": resource,
                "ResourceType": job.get("ResourceType"),
                "ResourceName": job.get("ResourceName"),
                "LastBackupTime": job["CompletionDate"],
                "LastBackupVaultArn": job["BackupVaultArn"],
                "LastRecoveryPointArn": job["RecoveryPointArn"],
            })
        vault_arn, point_arn = job["BackupVaultArn"], job["RecoveryPointArn"]
        source_vault = None
    elif kind == "copy":
        vault_arn, point_arn = job["DestinationBackupVaultArn"], job["DestinationRecoveryPointArn"]
        source_vault = job["SourceBackupVaultArn"]
    else:
        return
    vault = parse_arn(vault_arn)
    _store_recovery_point(vault.account, vault.region, vault.resource_id, _compact({
        "RecoveryPointArn": point_arn,
        "BackupVaultName": vault.resource_id,
        "BackupVaultArn": vault_arn,
        "SourceBackupVaultArn": source_vault,
        "ResourceArn": job.get("ResourceArn"),
        "ResourceType": job.get("ResourceType"),
        "ResourceName": job.get("ResourceName"),
        "CreatedBy": job.get("CreatedBy"),
        "IamRoleArn": job.get("IamRoleArn"),
        "Status": "COMPLETED",
        "CreationDate": job["CreationDate"],
        "InitiationDate": job["CreationDate"],
        "CompletionDate": job["CompletionDate"],
        "BackupSizeInBytes": job.get("BackupSizeInBytes"),
        "IsEncrypted": False,
        "IsParent": False,
    }))


def _statement_list(value):
    return value if isinstance(value, list) else [value]


def _copy_admitted_by(statement, source_account, source_org):
    """Whether one Allow statement admits backup:CopyIntoBackupVault from the source account."""
    if statement.get("Effect") != "Allow":
        return False
    actions = _statement_list(statement.get("Action", []))
    if not any(a in ("*", "backup:*", "backup:CopyIntoBackupVault") for a in actions):
        return False
    principal = statement.get("Principal")
    if principal == "*" or (isinstance(principal, dict) and "*" in _statement_list(
            principal.get("AWS", []))):
        equals = (statement.get("Condition") or {}).get("StringEquals") or {}
        org_ids = _statement_list(equals.get("aws:PrincipalOrgID", []))
        return bool(source_org) and source_org in org_ids and set(equals) <= {"aws:PrincipalOrgID"}
    if isinstance(principal, dict):
        wanted = {source_account, f"arn:aws:iam::{source_account}:root"}
        return bool(wanted & set(_statement_list(principal.get("AWS", []))))
    return False


def _copy_refused(source_account, destination_arn):
    """Why AWS Backup would refuse a copy into another account's vault (None: admitted).

    Only the destination vault's existence and its access policy are judged (Allow statements
    for the source account, or for everyone with aws:PrincipalOrgID of the source's organization);
    keys, Vault Lock and cross-account backup being enabled are not."""
    destination = parse_arn(destination_arn)
    if destination.account == source_account:
        return None
    vault = _backup_backend(destination.account, destination.region).vaults.get(
        destination.resource_id)
    if vault is None:
        return f"Backup vault {destination_arn} does not exist"
    _, org = _organization_of(source_account)
    try:
        policy = json.loads(getattr(vault, "access_policy", None) or "{}")
    except ValueError:
        policy = {}
    statements = _statement_list(policy.get("Statement", []))
    if any(_copy_admitted_by(st, source_account, org.id if org else None) for st in statements):
        return None
    return "Access Denied trying to call AWS Backup service"


def record_job(body):
    """POST /_sandbox/backup/jobs: stores (or updates) a job, then optionally emits its event."""
    if not isinstance(body, dict):
        raise _SandboxError(400, "the body must be a JSON object")
    kind = body.get("jobType", "backup")
    if kind not in _BACKUP_STATES:
        raise _SandboxError(400, "jobType must be backup, copy or restore")
    account = str(body.get("accountId") or DEFAULT_ACCOUNT_ID)
    if not _ACCOUNT_ID.match(account):
        raise _SandboxError(400, "accountId must be 12 digits")
    region = body.get("region") or "us-east-1"
    with _store_lock:
        backend = _backup_backend(account, region)
        jobs = backend.sandbox_jobs[kind]
        job_id = body.get("jobId")
        previous = jobs.get(job_id, {}).get("_spec", {}) if job_id else {}
        spec = {**previous, **{k: v for k, v in body.items() if v is not None}}
        spec.update(accountId=account, region=region, jobType=kind)
        spec["jobId"] = job_id or str(uuid.uuid4()).upper()
        state = body.get("state") or body.get("status") or previous.get("state") or "COMPLETED"
        if state not in _BACKUP_STATES[kind]:
            raise _SandboxError(400, f"{kind} job state must be one of {_BACKUP_STATES[kind]}")
        spec["state"] = state
        spec.pop("status", None)
        if kind in ("backup", "copy") and not spec.get("resourceArn"):
            raise _SandboxError(400, f"a {kind} job needs resourceArn")
        if kind == "copy" and not spec.get("destinationBackupVaultArn"):
            raise _SandboxError(400, "a copy job needs destinationBackupVaultArn")
        for name in ("creationDate", "completionDate", "startBy"):
            spec[name] = _to_datetime(spec.get(name), name)
        spec["creationDate"] = spec["creationDate"] or _now()
        rtype = spec.get("resourceType") or _resource_type_from_arn(spec.get("resourceArn"))
        spec["resourceType"] = rtype
        if kind == "copy" and state == "COMPLETED":
            refused = _copy_refused(account, spec["destinationBackupVaultArn"])
            if refused:
                # As AWS ends it: FAILED, with the reason, and no recovery point.
                state = spec["state"] = "FAILED"
                spec["statusMessage"] = spec["_refusal"] = refused
            elif spec.get("_refusal") and spec.get("statusMessage") == spec["_refusal"]:
                # Recorded again once admitted: the earlier refusal is not this run's message.
                spec.pop("statusMessage")
                spec.pop("_refusal")
        completed = state == "COMPLETED"
        # Generated once, kept across updates of the same job.
        if kind == "backup" and completed:
            spec.setdefault("recoveryPointArn", _recovery_point_arn(rtype, account, region))
        if kind == "copy":
            spec.setdefault("sourceRecoveryPointArn", _recovery_point_arn(rtype, account, region))
            if completed:
                destination = parse_arn(spec["destinationBackupVaultArn"])
                spec.setdefault("destinationRecoveryPointArn", _recovery_point_arn(
                    rtype, destination.account, destination.region))
        if kind == "restore":
            spec.setdefault("recoveryPointArn", _recovery_point_arn(rtype, account, region))
            if completed and spec.get("resourceArn"):
                restored = f"{spec['resourceArn']}-restored-{uuid.uuid4().hex[:8]}"
                spec.setdefault("createdResourceArn", restored)
        # Defaults that follow the state, recomputed on every update.
        full = dict(spec)
        if state in _FINAL_STATES and not full["completionDate"]:
            full["completionDate"] = max(_now(), full["creationDate"])
        if kind == "backup" and not full["startBy"]:
            full["startBy"] = full["creationDate"] + timedelta(hours=8)
        full.setdefault("resourceName", _resource_name_from_arn(full.get("resourceArn")))
        healthy = state in ("CREATED", "PENDING", "RUNNING", "COMPLETED")
        if not full.get("messageCategory") and healthy and not full.get("statusMessage"):
            full["messageCategory"] = "SUCCESS"
        job = _build_job(kind, full)
        job["_spec"] = spec
        jobs[spec["jobId"]] = job
        if completed:
            _job_completed(kind, job, backend)
    event_id = None
    if body.get("emit", True):
        entries = events_models.events_backends[account][region].put_events([_job_event(kind, job)])
        event_id = entries[0].get("EventId")
    return {"jobType": kind, "jobId": spec["jobId"], "accountId": account, "region": region,
            "eventId": event_id, "job": _jsonable(job)}


def all_jobs(query):
    found = []
    with _store_lock:
        for account, regions in list(backup_models.backup_backends.items()):
            for region, backend in list(regions.items()):
                for kind, jobs in getattr(backend, "sandbox_jobs", {}).items():
                    for job in jobs.values():
                        row = {"jobType": kind, "accountId": account, "region": region,
                               "jobId": job[_JOB_ID_FIELD[kind]], "job": _jsonable(job)}
                        narrowed = ("accountId", "region", "jobType")
                        if all(query.get(k) in (None, row[k]) for k in narrowed):
                            found.append(row)
    return {"jobs": found}


def _visible_accounts(caller, requested):
    """ByAccountId: other accounts only for the management account or AWS Backup's delegated administrator."""
    if requested in (None, ""):
        return [caller]
    if requested != "*" and not _ACCOUNT_ID.match(requested):
        raise InvalidParameterValue(f"Invalid account id: {requested}")
    managed = _managed_accounts(caller)
    if managed is None:
        return [caller] if requested in ("*", caller) else []
    if requested == "*":
        return managed
    return [requested] if requested in managed else []


def _check_enum(name, value, allowed):
    if value is not None and value not in allowed:
        raise InvalidParameterValue(f"{name} must be one of {', '.join(allowed)}")


def _job_filters(params, kind):
    """(test, value) per By* filter of the service model that is set."""
    state_field = "Status" if kind == "restore" else "State"
    equal = {
        "ByResourceArn": "ResourceArn",
        "ByState": "State",
        "ByStatus": "Status",
        "ByBackupVaultName": "BackupVaultName",
        "ByResourceType": "ResourceType",
        "ByParentJobId": "ParentJobId",
        "ByDestinationVaultArn": "DestinationBackupVaultArn",
        "BySourceRecoveryPointArn": "SourceRecoveryPointArn",
    }
    tests = []
    for param, field in equal.items():
        if params.get(param) is not None:
            tests.append(lambda job, f=field, v=params[param]: job.get(f) == v)
    _check_enum(state_field, params.get("By" + state_field), _BACKUP_STATES[kind])
    category = params.get("ByMessageCategory")
    if category and category not in ("*", "ANY", "AGGREGATE_ALL"):
        tests.append(lambda job: (job.get("MessageCategory") or "").lower() == category.lower())
    for param, field, after in (
        ("ByCreatedAfter", "CreationDate", True),
        ("ByCreatedBefore", "CreationDate", False),
        ("ByCompleteAfter", "CompletionDate", True),
        ("ByCompleteBefore", "CompletionDate", False),
    ):
        bound = params.get(param)
        if bound is not None:
            tests.append(lambda job, f=field, b=bound, a=after: job.get(f) is not None
                         and (job[f] > b if a else job[f] < b))
    return tests


def _newest_first(items, field="CreationDate"):
    return sorted(items, key=lambda item: item[field], reverse=True)


def _list_jobs(self, kind, key):
    params = self.params
    with _store_lock:
        accounts = _visible_accounts(self.current_account, params.get("ByAccountId"))
        tests = _job_filters(params, kind)
        jobs = [
            job
            for account in accounts
            for job in _backup_backend(account, self.region).sandbox_jobs[kind].values()
            if all(test(job) for test in tests)
        ]
    page, token = _page(_newest_first(jobs), params.get("MaxResults"), params.get("NextToken"),
                        InvalidParameterValue)
    return ActionResult(_compact({key: page, "NextToken": token}))


def _describe_job(self, kind, id_param):
    job_id = self.params.get(id_param)
    job = self.backup_backend.sandbox_jobs[kind].get(job_id)
    if job is None:
        raise BackupNotFound(f"Cannot find {kind} job with id {job_id}")
    return job


def list_backup_jobs(self):
    return _list_jobs(self, "backup", "BackupJobs")


def list_copy_jobs(self):
    return _list_jobs(self, "copy", "CopyJobs")


def list_restore_jobs(self):
    return _list_jobs(self, "restore", "RestoreJobs")


def describe_backup_job(self):
    return ActionResult(_describe_job(self, "backup", "BackupJobId"))


def describe_copy_job(self):
    return ActionResult({"CopyJob": _describe_job(self, "copy", "CopyJobId")})


def describe_restore_job(self):
    return ActionResult(_describe_job(self, "restore", "RestoreJobId"))


def list_protected_resources(self):
    with _store_lock:
        resources = self.backup_backend.protected_resources.values()
        resources = _newest_first(resources, "LastBackupTime")
    page, token = _page(resources, self.params.get("MaxResults"), self.params.get("NextToken"),
                        InvalidParameterValue)
    return ActionResult(_compact({"Results": page, "NextToken": token}))


def list_recovery_points_by_backup_vault(self):
    params = self.params
    name = params.get("BackupVaultName")
    if name not in self.backup_backend.vaults:
        raise BackupNotFound(f"Backup vault {name} does not exist")
    tests = []
    for param, field in (("ByResourceArn", "ResourceArn"), ("ByResourceType", "ResourceType"),
                         ("ByParentRecoveryPointArn", "ParentRecoveryPointArn")):
        if params.get(param) is not None:
            tests.append(lambda p, f=field, v=params[param]: p.get(f) == v)
    if params.get("ByBackupPlanId") is not None:
        plan_id = params["ByBackupPlanId"]
        tests.append(lambda p: (p.get("CreatedBy") or {}).get("BackupPlanId") == plan_id)
    if params.get("ByCreatedAfter") is not None:
        tests.append(lambda p: p["CreationDate"] > params["ByCreatedAfter"])
    if params.get("ByCreatedBefore") is not None:
        tests.append(lambda p: p["CreationDate"] < params["ByCreatedBefore"])
    with _store_lock:
        points = [p for p in self.backup_backend.recovery_points.get(name, {}).values()
                  if all(test(p) for test in tests)]
    page, token = _page(_newest_first(points), params.get("MaxResults"), params.get("NextToken"),
                        InvalidParameterValue)
    return ActionResult(_compact({"RecoveryPoints": page, "NextToken": token}))


_SUMMARY_STATES = _BACKUP_STATES["backup"] + ["AGGREGATE_ALL", "ANY"]


def _summary_windows(period, now):
    if period == "ONE_DAY":
        today = now.replace(hour=0, minute=0, second=0, microsecond=0)
        return [(today - timedelta(days=i), today - timedelta(days=i - 1)) for i in range(14)]
    days = 7 if period == "SEVEN_DAYS" else 14
    return [(now - timedelta(days=days), now)]


def list_backup_job_summaries(self):
    params = self.params
    caller = self.current_account
    period = params.get("AggregationPeriod") or "ONE_DAY"
    _check_enum("AggregationPeriod", period, ["ONE_DAY", "SEVEN_DAYS", "FOURTEEN_DAYS"])
    _check_enum("State", params.get("State"), _SUMMARY_STATES)
    account = params.get("AccountId")
    if account not in (None, "ANY", "AGGREGATE_ALL") and not _ACCOUNT_ID.match(account):
        raise InvalidParameterValue(f"Invalid AccountId: {account}")
    managed = _managed_accounts(caller) or [caller]
    if account in (None, "ANY", "AGGREGATE_ALL"):
        accounts = [caller] if account is None else managed
    else:
        accounts = [account] if account in managed else []
    dims = {  # requested value per dimension: ANY = one row per value, AGGREGATE_ALL = one row
        "AccountId": "ANY" if account is None else account,
        "State": params.get("State") or "ANY",
        "ResourceType": params.get("ResourceType") or "ANY",
        "MessageCategory": params.get("MessageCategory") or "ANY",
    }

    def key_of(job, dim, requested):
        value = job.get(dim)
        if requested == "ANY":
            return value, True
        if requested == "AGGREGATE_ALL":
            return "AGGREGATE_ALL", True
        if dim == "MessageCategory":
            return requested, (value or "").lower() == requested.lower()
        return requested, value == requested

    counts = {}
    with _store_lock:
        jobs = [job for a in accounts
                for job in _backup_backend(a, self.region).sandbox_jobs["backup"].values()]
    for start, end in _summary_windows(period, _now()):
        for job in jobs:
            if not start <= job["CreationDate"] < end:
                continue
            keys = [key_of(job, dim, requested) for dim, requested in dims.items()]
            if all(match for _, match in keys):
                group = (start, end) + tuple(value for value, _ in keys)
                counts[group] = counts.get(group, 0) + 1
    rows = [
        _compact({"Region": self.region, "AccountId": group[2], "State": group[3],
                  "ResourceType": group[4], "MessageCategory": group[5], "Count": count,
                  "StartTime": group[0], "EndTime": group[1]})
        for group, count in sorted(counts.items(), key=lambda item: (
            -item[0][0].timestamp(), *[str(v) for v in item[0][2:]]))
    ]
    page, token = _page(rows, params.get("MaxResults"), params.get("NextToken"),
                        InvalidParameterValue)
    return ActionResult(_compact({"BackupJobSummaries": page, "AggregationPeriod": period,
                                  "NextToken": token}))


def describe_region_settings(self):
    return ActionResult(self.backup_backend.region_settings)


def update_region_settings(self):
    settings = self.backup_backend.region_settings
    for name, allowed in (("ResourceTypeOptInPreference", _OPT_IN_DEFAULTS),
                          ("ResourceTypeManagementPreference", _MANAGEMENT_DEFAULTS)):
        given = self.params.get(name) or {}
        for resource_type, enabled in given.items():
            if resource_type not in allowed or not isinstance(enabled, bool):
                raise InvalidParameterValue(f"Invalid {name}: {resource_type}={enabled}")
        with _store_lock:
            settings[name].update(given)
    return EmptyResult()


def _global_settings_backend(self):
    # Account-wide: kept in the account's us-east-1 backend whatever the region called.
    return _backup_backend(self.current_account, "us-east-1")


def describe_global_settings(self):
    org = _organization_of(self.current_account)[1]
    if org is None:
        raise BackupInvalidRequest("Your account is not a member of an organization.")
    # The settings are the organization's, set in its management account: a member (a delegated
    # administrator) reads those.
    backend = _backup_backend(org.master_account_id, "us-east-1")
    return ActionResult(_compact({"GlobalSettings": backend.global_settings,
                                  "LastUpdateTime": backend.global_settings_updated}))


def update_global_settings(self):
    org = _organization_of(self.current_account)[1]
    if org is None or org.master_account_id != self.current_account:
        raise BackupInvalidRequest(
            "Only the management account of an organization can update global settings."
        )
    given = self.params.get("GlobalSettings") or {}
    for name, value in given.items():
        if name not in _GLOBAL_SETTINGS or value not in ("true", "false"):
            raise InvalidParameterValue(f"Invalid global setting: {name}={value}")
    backend = _global_settings_backend(self)
    with _store_lock:
        backend.global_settings.update(given)
        backend.global_settings_updated = _now()
    return EmptyResult()


def _vault(self):
    name = self.params.get("BackupVaultName")
    vault = self.backup_backend.vaults.get(name)
    if vault is None:
        raise BackupNotFound(f"Backup vault {name} does not exist")
    return vault


def put_backup_vault_access_policy(self):
    vault = _vault(self)
    policy = self.params.get("Policy")
    try:
        json.loads(policy or "")
    except ValueError as error:
        raise InvalidParameterValue("Policy is not a valid JSON policy document") from error
    vault.access_policy = policy
    return EmptyResult()


def get_backup_vault_access_policy(self):
    vault = _vault(self)
    policy = getattr(vault, "access_policy", None)
    if policy is None:
        raise BackupNotFound(f"Backup Vault {vault.backup_vault_arn} has no associated POLICY")
    return ActionResult({"BackupVaultName": vault.backup_vault_name,
                         "BackupVaultArn": vault.backup_vault_arn, "Policy": policy})


def create_logically_air_gapped_backup_vault(self):
    """A logically air-gapped vault: locked from the start with its retention limits, which
    never change (AWS-owned key unless EncryptionKeyArn)."""
    name = self.params.get("BackupVaultName")
    low, high = self.params.get("MinRetentionDays"), self.params.get("MaxRetentionDays")
    if low is None or high is None:
        raise InvalidParameterValue("MinRetentionDays and MaxRetentionDays are required")
    if int(low) < 7:
        raise InvalidParameterValue("MinRetentionDays must be at least 7 days")
    if int(high) < int(low):
        raise InvalidParameterValue("MaxRetentionDays must not be less than MinRetentionDays")
    vault = self.backup_backend.create_backup_vault(
        name, self.params.get("BackupVaultTags") or {},
        self.params.get("EncryptionKeyArn") or "", self.params.get("CreatorRequestId") or "")
    vault.locked = True
    vault.min_retention_days, vault.max_retention_days = int(low), int(high)
    vault.vault_type, vault.vault_state = "LOGICALLY_AIR_GAPPED_BACKUP_VAULT", "AVAILABLE"
    return ActionResult({"BackupVaultName": name, "BackupVaultArn": vault.backup_vault_arn,
                         "CreationDate": vault.creation_date, "VaultState": "AVAILABLE"})


def delete_backup_vault_access_policy(self):
    _vault(self).access_policy = None
    return EmptyResult()


_BACKUP_ACTIONS = {
    "ListBackupJobs": list_backup_jobs,
    "ListCopyJobs": list_copy_jobs,
    "ListRestoreJobs": list_restore_jobs,
    "DescribeBackupJob": describe_backup_job,
    "DescribeCopyJob": describe_copy_job,
    "DescribeRestoreJob": describe_restore_job,
    "ListProtectedResources": list_protected_resources,
    "ListRecoveryPointsByBackupVault": list_recovery_points_by_backup_vault,
    "ListBackupJobSummaries": list_backup_job_summaries,
    "DescribeRegionSettings": describe_region_settings,
    "UpdateRegionSettings": update_region_settings,
    "DescribeGlobalSettings": describe_global_settings,
    "UpdateGlobalSettings": update_global_settings,
    "PutBackupVaultAccessPolicy": put_backup_vault_access_policy,
    "GetBackupVaultAccessPolicy": get_backup_vault_access_policy,
    "DeleteBackupVaultAccessPolicy": delete_backup_vault_access_policy,
    "CreateLogicallyAirGappedBackupVault": create_logically_air_gapped_backup_vault,
}
for _function in _BACKUP_ACTIONS.values():
    setattr(backup_responses.BackupResponse, _function.__name__, _function)

_original_backup_setup_class = backup_responses.BackupResponse.setup_class


def backup_setup_class(self, request, full_url, headers, use_raw_body=False):
    _original_backup_setup_class(self, request, full_url, headers, use_raw_body)
    # Our actions read typed parameters (timestamps, ints, maps) through moto's model-driven
    # parser; moto's own backup actions keep their hand-written parsing.
    if self._get_action() in _BACKUP_ACTIONS:
        self.automated_parameter_parsing = True
        self.parse_parameters(request)


backup_responses.BackupResponse.setup_class = backup_setup_class

# moto_server builds a service's routes from urls.py on its first request: add ours before.
# The action is then found from method + path through the botocore model.
backup_urls.url_paths.update({
    "{0}/backup-jobs/?$": backup_urls.response.dispatch,
    "{0}/backup-jobs/(?P<backupJobId>[^/]+)$": backup_urls.response.dispatch,
    "{0}/copy-jobs/?$": backup_urls.response.dispatch,
    "{0}/copy-jobs/(?P<copyJobId>[^/]+)$": backup_urls.response.dispatch,
    "{0}/restore-jobs/?$": backup_urls.response.dispatch,
    "{0}/restore-jobs/(?P<restoreJobId>[^/]+)$": backup_urls.response.dispatch,
    "{0}/resources/?$": backup_urls.response.dispatch,
    # A trailing "/" (not "/?"): Flask then also matches the SDK's ".../recovery-points/".
    "{0}/backup-vaults/(?P<name>[^/]+)/recovery-points/$": backup_urls.response.dispatch,
    "{0}/backup-vaults/(?P<name>[^/]+)/access-policy$": backup_urls.response.dispatch,
    "{0}/audit/backup-job-summaries/?$": backup_urls.response.dispatch,
    "{0}/account-settings/?$": backup_urls.response.dispatch,
    "{0}/global-settings/?$": backup_urls.response.dispatch,
    "{0}/logically-air-gapped-backup-vaults/(?P<name>[^/]+)$": backup_urls.response.dispatch,
})


# --- 9. Organizations DescribeEffectivePolicy -------------------------------------------------


class EffectivePolicyNotFoundException(organizations_exceptions.OrganizationsClientError):
    def __init__(self, policy_type):
        super().__init__(
            "EffectivePolicyNotFoundException",
            f"No effective policy of type {policy_type} applies to the account.",
        )


class OrganizationsAccessDeniedException(organizations_exceptions.OrganizationsClientError):
    def __init__(self, message="You don't have permissions to access the effective policy of "
                 "another account."):
        super().__init__("AccessDeniedException", message)


_MANAGEMENT_POLICY_TYPES = ("BACKUP_POLICY", "TAG_POLICY", "AISERVICES_OPT_OUT_POLICY")
_policy_init_with_type = organizations_models.FakePolicy.__init__


def policy_init_with_time(self, organization, **kwargs):
    _policy_init_with_type(self, organization, **kwargs)
    self.last_updated = _now()


organizations_models.FakePolicy.__init__ = policy_init_with_time
_original_update_policy = organizations_models.OrganizationsBackend.update_policy


def update_policy(self, **kwargs):
    result = _original_update_policy(self, **kwargs)
    self.get_policy_by_id(kwargs["PolicyId"]).last_updated = _now()
    return result


organizations_models.OrganizationsBackend.update_policy = update_policy


def _resolve(value):
    """A policy value with its operators resolved (for values assigned or appended)."""
    if isinstance(value, dict):
        return _merge_policy({}, value)
    return copy.deepcopy(value)


_OPERATORS = ("@@assign", "@@append", "@@remove")


def _as_list(value):
    return [] if value is None else list(value) if isinstance(value, list) else [value]


def _merge_policy(into, policy):
    """Simplified management-policy inheritance (see 9 in the module docstring)."""
    for key, value in policy.items():
        if key.startswith("@@"):
            continue  # operators are handled by the parent; child-control operators ignored
        existing = next((k for k in into if k.lower() == key.lower()), key)
        current = into.get(existing)
        if isinstance(value, dict) and any(op in value for op in _OPERATORS):
            if "@@assign" in value:
                current = _resolve(value["@@assign"])
            if "@@append" in value:
                current = _as_list(current)
                current += [v for v in _resolve(_as_list(value["@@append"])) if v not in current]
            if "@@remove" in value:
                removed = _as_list(value["@@remove"])
                if isinstance(current, list):
                    current = [v for v in current if v not in removed]
                elif current in removed:
                    current = None
            rest = {k: v for k, v in value.items() if not k.startswith("@@")}
            if rest:
                current = _merge_policy(current if isinstance(current, dict) else {}, rest)
            if current is None:
                into.pop(existing, None)
            else:
                into[existing] = current
        elif isinstance(value, dict):
            into[existing] = _merge_policy(current if isinstance(current, dict) else {}, value)
        else:
            into[existing] = copy.deepcopy(value)
    return into


def describe_effective_policy(self):
    policy_type = self._get_param("PolicyType")
    caller = self.current_account
    target = self._get_param("TargetId") or caller
    backend, org = _organization_of(caller)
    if org is None:
        raise organizations_exceptions.AWSOrganizationsNotInUseException()
    if policy_type not in _MANAGEMENT_POLICY_TYPES:
        raise organizations_exceptions.InvalidInputException("You specified an invalid value.")
    if not _ACCOUNT_ID.match(target):
        raise organizations_exceptions.InvalidInputException(
            "You specified an invalid value: the target of an effective policy must be an account.")
    if (target != caller and org.master_account_id != caller
            and _delegated_management_backend(caller) is None):
        raise OrganizationsAccessDeniedException()
    account = next((a for a in backend.accounts if a.id == target), None)
    if account is None:
        raise organizations_exceptions.TargetNotFoundException()
    chain = [account]
    parent_id = account.parent_id
    while parent_id:
        parent = next((ou for ou in backend.ou if ou.id == parent_id), None)
        if parent is None:
            break
        chain.insert(0, parent)
        parent_id = getattr(parent, "parent_id", None)
    policies = [p for node in chain for p in node.attached_policies if p.type == policy_type]
    if not policies:
        raise EffectivePolicyNotFoundException(policy_type)
    merged = {}
    for policy in policies:
        _merge_policy(merged, json.loads(policy.content or "{}"))
    updated = max(getattr(p, "last_updated", None) or _now() for p in policies)
    return json.dumps({"EffectivePolicy": {
        "PolicyContent": json.dumps(merged),
        "LastUpdatedTimestamp": _epoch(updated),
        "TargetId": target,
        "PolicyType": policy_type,
    }})


organizations_responses.OrganizationsResponse.describe_effective_policy = describe_effective_policy

# --- 15. A delegated administrator's Organizations calls ------------------------------------------

_DELEGATED_READS = {
    "DescribeOrganization", "DescribeOrganizationalUnit", "DescribeAccount", "DescribePolicy",
    "DescribeEffectivePolicy", "ListAccounts", "ListAccountsForParent", "ListChildren",
    "ListOrganizationalUnitsForParent", "ListParents", "ListRoots", "ListTagsForResource",
    "ListPolicies", "ListPoliciesForTarget", "ListTargetsForPolicy",
    "ListAWSServiceAccessForOrganization", "ListDelegatedAdministrators",
    "ListDelegatedServicesForAccount", "DescribeResourcePolicy",
}


def _delegated_management_backend(caller):
    """The management account's backend when the caller is a delegated administrator, else None."""
    if caller in organizations_models.organizations_backends.master_accounts:
        backend, org = _organization_of(caller)
        if org is not None and caller != org.master_account_id and any(
                a.account.id == caller for a in getattr(backend, "admins", [])):
            return backend
    return None


def _delegated_by_policy(backend, caller, action):
    stored = getattr(backend.org, "_sandbox_resource_policy", None)
    if not stored:
        return False
    try:
        statements = _statement_list(json.loads(stored["Content"]).get("Statement", []))
    except ValueError:
        return False
    names = {caller, f"arn:aws:iam::{caller}:root", "*"}
    for st in statements:
        if st.get("Effect") != "Allow":
            continue
        principal = st.get("Principal")
        principals = {"*"} if principal == "*" else set(
            _statement_list((principal or {}).get("AWS", [])))
        actions = set(_statement_list(st.get("Action", [])))
        if principals & names and actions & {f"organizations:{action}", "organizations:*", "*"}:
            return True
    return False


_own_organizations_backend = organizations_responses.OrganizationsResponse.organizations_backend


def _organizations_backend(self):
    caller = self.current_account
    management = _delegated_management_backend(caller)
    if management is None:
        return _own_organizations_backend.fget(self)
    action = self._get_action()
    if action in _DELEGATED_READS or _delegated_by_policy(management, caller, action):
        return management
    raise OrganizationsAccessDeniedException(
        f"You don't have permissions to access this resource: organizations:{action} is not "
        "delegated to this account by the organization's resource policy.")


organizations_responses.OrganizationsResponse.organizations_backend = property(
    _organizations_backend)

# --- 10. CloudTrail LookupEvents ----------------------------------------------------------------


def _cloudtrail_error(code):
    return type(code, (ServiceException,), {"code": code})


InvalidLookupAttributes = _cloudtrail_error("InvalidLookupAttributesException")
InvalidTimeRange = _cloudtrail_error("InvalidTimeRangeException")
InvalidMaxResults = _cloudtrail_error("InvalidMaxResultsException")
InvalidNextToken = _cloudtrail_error("InvalidNextTokenException")
_LOOKUP_KEYS = ("EventId", "EventName", "ReadOnly", "Username", "ResourceType", "ResourceName",
                "EventSource", "AccessKeyId")
_original_cloudtrail_init = cloudtrail_models.CloudTrailBackend.__init__


def cloudtrail_init(self, region_name, account_id):
    _original_cloudtrail_init(self, region_name, account_id)
    self.sandbox_events = []  # recorded through POST /_sandbox/cloudtrail/events


cloudtrail_models.CloudTrailBackend.__init__ = cloudtrail_init


def _lookup_value(event, key):
    if key in ("ResourceType", "ResourceName"):
        return [r.get(key) for r in event.get("Resources", [])]
    return [event.get(key)]


def lookup_events(self):
    attributes = self._get_param("LookupAttributes") or []
    if len(attributes) > 1 or any(a.get("AttributeKey") not in _LOOKUP_KEYS for a in attributes):
        raise InvalidLookupAttributes(
            "You can specify only one lookup attribute, of a supported key."
        )
    try:
        start = _to_datetime(self._get_param("StartTime"))
        end = _to_datetime(self._get_param("EndTime"))
    except _SandboxError as error:
        raise InvalidTimeRange(str(error)) from error
    if start and end and start > end:
        raise InvalidTimeRange("Start time must be before end time.")
    with _store_lock:
        events = [
            e for e in self.cloudtrail_backend.sandbox_events
            if (start is None or e["EventTime"] >= start) and (end is None or e["EventTime"] <= end)
            and all(a.get("AttributeValue") in _lookup_value(e, a["AttributeKey"])
                    for a in attributes)
        ]
    max_results = self._get_param("MaxResults")
    if max_results is not None and not 1 <= max_results <= 50:
        raise InvalidMaxResults("MaxResults must be between 1 and 50.")
    page, token = _page(_newest_first(events, "EventTime"), max_results,
                        self._get_param("NextToken"), InvalidNextToken, limit=50)
    body = json.dumps(_compact({
        "Events": [_compact({**e, "EventTime": _epoch(e["EventTime"])}) for e in page],
        "NextToken": token,
    }))
    return body, {"Content-Type": "application/x-amz-json-1.1"}


cloudtrail_responses.CloudTrailResponse.lookup_events = lookup_events


def record_cloudtrail_event(body):
    """POST /_sandbox/cloudtrail/events."""
    if not isinstance(body, dict) or not body.get("eventName") or not body.get("eventSource"):
        raise _SandboxError(400, "the body must be a JSON object with eventName and eventSource")
    account = str(body.get("accountId") or DEFAULT_ACCOUNT_ID)
    if not _ACCOUNT_ID.match(account):
        raise _SandboxError(400, "accountId must be 12 digits")
    region = body.get("region") or "us-east-1"
    when = _to_datetime(body.get("eventTime"), "eventTime") or _now()
    event_id = body.get("eventId") or str(uuid.uuid4())
    read_only = str(body.get("readOnly", False)).lower()
    record = body.get("cloudTrailEvent")
    if record is None:
        record = {
            "eventVersion": "1.09",
            "userIdentity": _compact({"accountId": account, "userName": body.get("username")}),
            "eventTime": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "eventSource": body["eventSource"],
            "eventName": body["eventName"],
            "awsRegion": region,
            "eventID": event_id,
            "readOnly": read_only == "true",
            "eventType": "AwsApiCall",
            "managementEvent": True,
            "recipientAccountId": account,
        }
    event = _compact({
        "EventId": event_id,
        "EventName": body["eventName"],
        "ReadOnly": read_only,
        "AccessKeyId": body.get("accessKeyId"),
        "EventTime": when,
        "EventSource": body["eventSource"],
        "Username": body.get("username"),
        "Resources": [
            _compact({"ResourceType": r.get("ResourceType"), "ResourceName": r.get("ResourceName")})
            for r in body.get("resources") or []
        ],
        "CloudTrailEvent": record if isinstance(record, str) else json.dumps(record),
    })
    with _store_lock:
        cloudtrail_models.cloudtrail_backends[account][region].sandbox_events.append(event)
    return {"accountId": account, "region": region, "event": _jsonable(event)}


def all_cloudtrail_events():
    found = []
    with _store_lock:
        for account, regions in list(cloudtrail_models.cloudtrail_backends.items()):
            for region, backend in list(regions.items()):
                for event in getattr(backend, "sandbox_events", []):
                    found.append(
                        {"accountId": account, "region": region, "event": _jsonable(event)}
                    )
    return {"events": found}


# --- 8. Sandbox control endpoints (/_sandbox/...) -----------------------------------------------


def _sandbox_app(environ, start_response):
    request = Request(environ)
    route = (request.method, request.path.rstrip("/"))
    try:
        body = None
        if request.method == "POST":
            try:
                body = json.loads(request.get_data(as_text=True) or "null")
            except ValueError as error:
                raise _SandboxError(400, f"invalid JSON: {error}") from error
        if route == ("POST", "/_sandbox/backup/jobs"):
            status, answer = 200, record_job(body)
        elif route == ("GET", "/_sandbox/backup/jobs"):
            status, answer = 200, all_jobs(request.args)
        elif route == ("POST", "/_sandbox/cloudtrail/events"):
            status, answer = 200, record_cloudtrail_event(body)
        elif route == ("GET", "/_sandbox/cloudtrail/events"):
            status, answer = 200, all_cloudtrail_events()
        else:
            raise _SandboxError(404, f"no sandbox endpoint {request.method} {request.path}")
    except _SandboxError as error:
        status, answer = error.status, {"message": str(error)}
    response = Response(json.dumps(answer), status=status, mimetype="application/json")
    return response(environ, start_response)


_original_dispatcher_call = werkzeug_app.DomainDispatcherApplication.__call__


def dispatcher_call(self, environ, start_response):
    # Unsigned requests would otherwise be routed to S3.
    if environ.get("PATH_INFO", "").startswith("/_sandbox/"):
        return _sandbox_app(environ, start_response)
    return _original_dispatcher_call(self, environ, start_response)


werkzeug_app.DomainDispatcherApplication.__call__ = dispatcher_call


from moto.iam.models import iam_backends as _iam_backends  # noqa: E402
from moto.sts import models as _sts_models  # noqa: E402
from moto.sts.exceptions import STSClientError as _STSClientError  # noqa: E402

_original_assume_role = _sts_models.STSBackend.assume_role


def assume_role(self, region_name, role_session_name, role_arn, policy, duration, external_id):
    parts = role_arn.split(":")
    name = role_arn.rsplit("/", 1)[-1]
    if len(parts) > 5 and name.startswith("backup-control-plane-"):
        account, partition = parts[4], parts[1]
        backend = _iam_backends[account][partition]
        if not any(role.name == name for role in backend.roles.values()):
            raise _STSClientError(
                "AccessDenied",
                f"User: {role_session_name} is not authorized to perform: sts:AssumeRole on "
                f"resource: {role_arn}",
            )
    return _original_assume_role(
        self, region_name, role_session_name, role_arn, policy, duration, external_id
    )


_sts_models.STSBackend.assume_role = assume_role


# --- 16. CloudFormation roles with managed policies ----------------------------------------------

_role_from_cloudformation = iam_models.Role.create_from_cloudformation_json.__func__


def _role_with_managed_policies(cls, resource_name, cloudformation_json, account_id, region_name,
                                **kwargs):
    properties = dict(cloudformation_json["Properties"])
    # Inline policies as JSON text (moto would store the dict and answer its Python repr).
    properties["Policies"] = [
        {**p, "PolicyDocument": p["PolicyDocument"] if isinstance(p["PolicyDocument"], str)
         else json.dumps(p["PolicyDocument"])}
        for p in properties.get("Policies", [])
    ]
    cloudformation_json = {**cloudformation_json, "Properties": properties}
    role = _role_from_cloudformation(cls, resource_name, cloudformation_json, account_id,
                                     region_name, **kwargs)
    backend = iam_models.iam_backends[account_id][get_partition(region_name)]
    for arn in cloudformation_json["Properties"].get("ManagedPolicyArns", []):
        backend.attach_role_policy(arn, role.name)
    return role


iam_models.Role.create_from_cloudformation_json = classmethod(_role_with_managed_policies)

# --- 13. DynamoDB: one request at a time -----------------------------------------------------------
# moto_server is threaded and its DynamoDB tables are plain dicts: two concurrent UpdateItems on one
# item can lose an update (a list_append, a conditional claim). DynamoDB applies each write to an
# item atomically; serialising moto's DynamoDB requests gives the same guarantee.

from moto.dynamodb.responses import DynamoHandler as _DynamoHandler  # noqa: E402

_dynamodb_lock = threading.RLock()
_original_dynamodb_call_action = _DynamoHandler.call_action


def dynamodb_call_action(self):
    with _dynamodb_lock:
        return _original_dynamodb_call_action(self)


_DynamoHandler.call_action = dynamodb_call_action


# --- 14. Organizations delegated administrators and the delegation policy ---------------------

for _principal in ("backup.amazonaws.com", "member.org.stacksets.cloudformation.amazonaws.com"):
    if _principal not in organizations_models.FakeDelegatedAdministrator.SUPPORTED_SERVICES:
        organizations_models.FakeDelegatedAdministrator.SUPPORTED_SERVICES.append(_principal)
    if _principal not in organizations_models.FakeServiceAccess.TRUSTED_SERVICES:
        organizations_models.FakeServiceAccess.TRUSTED_SERVICES.append(_principal)

_original_register_delegated = organizations_models.OrganizationsBackend.register_delegated_administrator


def register_delegated_administrator(self, **kwargs):
    principal = kwargs["ServicePrincipal"]
    if principal not in [s.get("ServicePrincipal") for s in self.services]:
        raise organizations_exceptions.ConstraintViolationException(
            "You attempted to register a delegated administrator before you enabled service "
            "access. Call the EnableAWSServiceAccess API first. (SERVICE_ACCESS_NOT_ENABLED)"
        )
    return _original_register_delegated(self, **kwargs)


organizations_models.OrganizationsBackend.register_delegated_administrator = (
    register_delegated_administrator
)


class ResourcePolicyNotFoundException(organizations_exceptions.OrganizationsClientError):
    def __init__(self):
        super().__init__(
            "ResourcePolicyNotFoundException",
            "We can't find a resource policy request with the ID that you specified.",
        )


def _policy_org(caller, management_only):
    backend, org = _organization_of(caller)
    if org is None:
        raise organizations_exceptions.AWSOrganizationsNotInUseException()
    delegated = any(a.account.id == caller for a in getattr(backend, "admins", []))
    if caller != org.master_account_id and (management_only or not delegated):
        raise organizations_exceptions.OrganizationsClientError(
            "AccessDeniedException",
            "Only the management account (and, to read it, a delegated administrator) may call this.",
        )
    return backend, org


def _resource_policy_json(org, stored):
    return {
        "ResourcePolicySummary": {"Id": stored["Id"], "Arn": stored["Arn"]},
        "Content": stored["Content"],
    }


def put_resource_policy(self):
    backend, org = _policy_org(self.current_account, management_only=True)
    content = self._get_param("Content")
    try:
        json.loads(content)
    except (TypeError, ValueError):
        raise organizations_exceptions.InvalidInputException(
            "You provided a resource policy that is not valid JSON.")
    with _store_lock:
        stored = getattr(org, "_sandbox_resource_policy", None) or {
            "Id": "rp-" + uuid.uuid4().hex[:8],
            "Arn": f"arn:aws:organizations::{org.master_account_id}:resourcepolicy/{org.id}/"
                   + "rp-" + uuid.uuid4().hex[:8],
        }
        stored = {**stored, "Content": content}
        org._sandbox_resource_policy = stored
    return json.dumps({"ResourcePolicy": _resource_policy_json(org, stored)})


def describe_resource_policy(self):
    _, org = _policy_org(self.current_account, management_only=False)
    stored = getattr(org, "_sandbox_resource_policy", None)
    if not stored:
        raise ResourcePolicyNotFoundException()
    return json.dumps({"ResourcePolicy": _resource_policy_json(org, stored)})


def delete_resource_policy(self):
    _, org = _policy_org(self.current_account, management_only=True)
    if not getattr(org, "_sandbox_resource_policy", None):
        raise ResourcePolicyNotFoundException()
    org._sandbox_resource_policy = None
    return "{}"


organizations_responses.OrganizationsResponse.put_resource_policy = put_resource_policy
organizations_responses.OrganizationsResponse.describe_resource_policy = describe_resource_policy
organizations_responses.OrganizationsResponse.delete_resource_policy = delete_resource_policy

_STACKSETS_PRINCIPAL = "member.org.stacksets.cloudformation.amazonaws.com"


def _stacksets_access(account_id):
    backend, org = _organization_of(account_id)
    if org is None:
        return backend, False
    return backend, any(s.get("ServicePrincipal") == _STACKSETS_PRINCIPAL for s in backend.services)


def describe_organizations_access(self):
    _, enabled = _stacksets_access(self.current_account)
    return ActionResult({"Status": "ENABLED" if enabled else "DISABLED"})


def activate_organizations_access(self):
    backend, enabled = _stacksets_access(self.current_account)
    if backend is None or backend.org is None:
        raise organizations_exceptions.AWSOrganizationsNotInUseException()
    if not enabled:
        backend.enable_aws_service_access(ServicePrincipal=_STACKSETS_PRINCIPAL)
    return EmptyResult()


from moto.cloudformation import responses as _cloudformation_responses  # noqa: E402

_cloudformation_responses.CloudFormationResponse.describe_organizations_access = (
    describe_organizations_access
)
_cloudformation_responses.CloudFormationResponse.activate_organizations_access = (
    activate_organizations_access
)

if __name__ == "__main__":
    moto_main(sys.argv[1:])
