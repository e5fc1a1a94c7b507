"""Checks of the CloudFormation templates' permissions and notifications: template.yaml (the SAM
stack) and member-role.yaml (the role in each member account).

Usage: python -m unittest tools/test_templates.py   (scripts/test.sh runs it with the virtualenv's
Python, which has cfn-lint). TRAILWATCH_TEMPLATES_DIR=<dir> checks the templates of another
checkout instead of this one's.

Each template is read with cfn-lint's YAML decoder (short-form intrinsics become their long form,
`!Ref X` → {"Ref": "X"}); the Conditions are evaluated for given parameter values (the defaults,
unless a test sets some), resources whose Condition is false are dropped and every Fn::If is
replaced by its chosen branch, AWS::NoValue removed. What the tests assert:

- the function runs with the template's own role (so SAM generates none and attaches no
  AWSLambdaBasicExecutionRole), no policy allows logs:* or *, and the log write actions are on the
  function's own log group only;
- no Security Hub action is allowed on "*": the findings go to the account's default product, the
  reads are on its hub (both templates);
- with Organization=true, the scan queue has a policy denying sqs:SendMessage to every principal but
  the function's role, without denying the role's receive/delete; sts:AssumeRole requires
  aws:ResourceOrgID = ${aws:PrincipalOrgID}; the queue's messages are sealed with an HMAC key only
  the function's role may use (kms:GenerateMac / kms:VerifyMac), which nobody may grant on;
- Security Hub insights of trailwatch's failing findings by account and by control (and, for an
  organization, of the accounts that could not be scanned) exist where the findings go;
- with EventDrivenRecheck=true (off by default), one EventBridge rule per event source, each
  pinned on source and detail-type, whose events are exactly the table of
  crates/core/src/controls/changes.rs (IAM's rule only in us-east-1), delivering to the change
  queue, which only those rules may send to, which has a dead-letter queue, and whose trigger
  batches (a window of at most a minute) and reports item failures; the function's role may only
  poll it, and the function is told its ARN; change-forwarder.yaml's rules are the same, each
  forwarding to the central default bus with a role that may only put events there, and create
  nothing in the central account's own region;
- the stack's alarm topic exists by default, is every alarm's action (AlarmTopicArn replaces it),
  lets CloudWatch publish only for this account, and the e-mail subscription exists only when
  AlarmEmail is set.
"""

import copy
import fnmatch
import json
import os
import re
import unittest

from cfnlint.decode import decode_str

ROOT = os.environ.get(
    "TRAILWATCH_TEMPLATES_DIR", os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
)
TEMPLATE = os.path.join(ROOT, "template.yaml")
CHANGES_TABLE = os.path.join(ROOT, "crates", "core", "src", "controls", "changes.rs")
MEMBER_ROLE = os.path.join(ROOT, "member-role.yaml")
CHANGE_FORWARDER = os.path.join(ROOT, "change-forwarder.yaml")

ROLE = "TrailwatchFunctionRole"
ROLE_ARN = {"Fn::GetAtt": [ROLE, "Arn"]}
LOG_WRITE_ACTIONS = {"logs:createloggroup", "logs:createlogstream", "logs:putlogevents"}
QUEUE_CONSUMER_ACTIONS = {"sqs:receivemessage", "sqs:deletemessage", "sqs:getqueueattributes"}
NO_VALUE = object()


def load(path):
    with open(path, encoding="utf-8") as file:
        template, matches = decode_str(file.read())
    if matches:
        raise AssertionError(f"{path} does not parse: {matches}")
    # Plain dicts and lists: cfn-lint's nodes carry line numbers the comparisons do not need.
    return json.loads(json.dumps(template))


class Stack:
    """A template as CloudFormation would see it for some parameter values: conditions evaluated,
    resources of false conditions dropped, Fn::If resolved."""

    def __init__(self, template, **parameters):
        self.template = template
        self.parameters = {
            name: str(spec.get("Default", "")) for name, spec in template.get("Parameters", {}).items()
        }
        unknown = set(parameters) - set(self.parameters)
        if unknown:
            raise AssertionError(f"no such parameters: {sorted(unknown)}")
        self.parameters.update(parameters)
        self.conditions = {}
        for name in template.get("Conditions", {}):
            self.condition(name)
        self.resources = {
            name: self.resolve(copy.deepcopy(resource))
            for name, resource in template.get("Resources", {}).items()
            if self.conditions.get(resource.get("Condition"), True)
        }

    def condition(self, name):
        if name not in self.conditions:
            self.conditions[name] = self.evaluate(self.template["Conditions"][name])
        return self.conditions[name]

    def evaluate(self, expression):
        if not isinstance(expression, dict):
            return expression
        ((function, argument),) = expression.items()
        if function == "Ref":
            return self.parameters.get(argument, f"<{argument}>")
        if function == "Condition":
            return self.condition(argument)
        if function == "Fn::Equals":
            left, right = (self.evaluate(value) for value in argument)
            return str(left) == str(right)
        if function == "Fn::Not":
            return not self.evaluate(argument[0])
        if function == "Fn::And":
            return all(self.evaluate(value) for value in argument)
        if function == "Fn::Or":
            return any(self.evaluate(value) for value in argument)
        raise AssertionError(f"cannot evaluate {function} in a condition")

    def resolve(self, value):
        if isinstance(value, list):
            items = [self.resolve(item) for item in value]
            return [item for item in items if item is not NO_VALUE]
        if isinstance(value, dict):
            if value == {"Ref": "AWS::NoValue"}:
                return NO_VALUE
            if set(value) == {"Fn::If"}:
                name, when_true, when_false = value["Fn::If"]
                return self.resolve(when_true if self.condition(name) else when_false)
            items = {key: self.resolve(item) for key, item in value.items()}
            return {key: item for key, item in items.items() if item is not NO_VALUE}
        return value

    def of_type(self, resource_type):
        return {
            name: resource
            for name, resource in self.resources.items()
            if resource["Type"] == resource_type
        }

    def statements(self):
        """Every IAM policy statement of the stack's identity policies: (where, statement)."""
        found = []
        for name, resource in self.resources.items():
            properties = resource.get("Properties", {})
            if resource["Type"] == "AWS::IAM::Role":
                documents = [policy["PolicyDocument"] for policy in properties.get("Policies", [])]
            elif resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
                documents = [properties["PolicyDocument"]]
            elif resource["Type"] == "AWS::Serverless::Function":
                # SAM's Policies: inline documents (dicts with Statement); named policies are
                # strings and policy templates are dicts without Statement.
                documents = [
                    policy
                    for policy in properties.get("Policies", [])
                    if isinstance(policy, dict) and "Statement" in policy
                ]
            else:
                continue
            for document in documents:
                for statement in as_list(document["Statement"]):
                    found.append((name, statement))
        return found


def as_list(value):
    return value if isinstance(value, list) else [value]


def actions(statement):
    return {action.lower() for action in as_list(statement.get("Action", []))}


def sub_text(value):
    """The text of a resource ARN: a plain string, or the template of a Fn::Sub."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Sub" in value:
        argument = value["Fn::Sub"]
        return argument if isinstance(argument, str) else argument[0]
    return json.dumps(value)


class PolicyAssertions(unittest.TestCase):
    def granting(self, statements, action):
        return [
            statement
            for statement in statements
            if statement["Effect"] == "Allow" and action.lower() in actions(statement)
        ]

    def assert_security_hub_scoped(self, statements, product_region, hub_regions):
        """BatchImportFindings on the account's default product, GetFindings on its hub in the
        findings region, DescribeHub on its hub in hub_regions; no Security Hub action on "*".
        Resource types: https://docs.aws.amazon.com/service-authorization/latest/reference/list_awssecurityhub.html"""
        account = "${AWS::AccountId}"
        expected = {
            "securityhub:batchimportfindings": [
                f"arn:${{AWS::Partition}}:securityhub:{product_region}:{account}:product/{account}/default"
            ],
            "securityhub:getfindings": [
                f"arn:${{AWS::Partition}}:securityhub:{product_region}:{account}:hub/default"
            ],
            "securityhub:describehub": [
                f"arn:${{AWS::Partition}}:securityhub:{hub_regions}:{account}:hub/default"
            ],
        }
        for action, resources in expected.items():
            granted = self.granting(statements, action)
            self.assertTrue(granted, f"nothing grants {action}")
            self.assertEqual(
                sorted(sub_text(r) for s in granted for r in as_list(s["Resource"])), resources
            )
        for statement in statements:
            if any(action.startswith("securityhub:") for action in actions(statement)):
                self.assertNotIn("*", as_list(statement["Resource"]), statement)


class TemplateTest(PolicyAssertions):
    @classmethod
    def setUpClass(cls):
        cls.template = load(TEMPLATE)

    def stack(self, **parameters):
        return Stack(self.template, **parameters)

    def role(self, stack):
        roles = stack.of_type("AWS::IAM::Role")
        self.assertIn(ROLE, roles, f"template.yaml has no AWS::IAM::Role {ROLE}")
        return roles[ROLE]

    def role_statements(self, stack):
        policies = self.role(stack)["Properties"].get("Policies", [])
        return [
            statement
            for policy in policies
            for statement in as_list(policy["PolicyDocument"]["Statement"])
        ]

    # --- execution role and logs ----------------------------------------------------------

    def test_the_function_runs_with_the_templates_own_role(self):
        for organization in ("false", "true"):
            stack = self.stack(Organization=organization)
            function = stack.resources["TrailwatchFunction"]["Properties"]
            # Without Role, SAM generates a role and attaches AWSLambdaBasicExecutionRole to it.
            self.assertEqual(
                function.get("Role"),
                ROLE_ARN,
                "the function must name TrailwatchFunctionRole (else SAM generates a role with "
                "AWSLambdaBasicExecutionRole: logs actions on *)",
            )
            self.assertNotIn("Policies", function, "SAM ignores Policies when Role is set")
            role = self.role(stack)["Properties"]
            trust = as_list(role["AssumeRolePolicyDocument"]["Statement"])
            self.assertEqual(
                [(s["Effect"], s["Principal"], actions(s)) for s in trust],
                [("Allow", {"Service": "lambda.amazonaws.com"}, {"sts:assumerole"})],
            )
            self.assertEqual(
                stack.template["Outputs"]["FunctionRoleArn"]["Value"], ROLE_ARN
            )

    def test_no_basic_execution_role_and_no_wildcard_actions(self):
        self.assertNotIn("AWSLambdaBasicExecutionRole", json.dumps(self.template))
        for organization in ("false", "true"):
            stack = self.stack(Organization=organization)
            for name, function in stack.of_type("AWS::Serverless::Function").items():
                # A SAM function without Role gets a generated role with
                # AWSLambdaBasicExecutionRole (logs:CreateLogGroup, CreateLogStream, PutLogEvents
                # on "*"): https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSLambdaBasicExecutionRole.html
                self.assertIn("Role", function["Properties"], f"{name}: SAM would generate its role")
            for resource in stack.of_type("AWS::IAM::Role").values():
                self.assertFalse(resource["Properties"].get("ManagedPolicyArns"))
            for where, statement in stack.statements():
                self.assertFalse(
                    actions(statement) & {"*", "logs:*", "securityhub:*", "sqs:*", "sts:*"},
                    f"{where}: {statement}",
                )

    def test_logs_are_written_to_the_functions_own_log_group_only(self):
        stack = self.stack()
        statements = self.role_statements(stack)
        for action in ("logs:CreateLogStream", "logs:PutLogEvents"):
            self.assertTrue(self.granting(statements, action), f"nothing grants {action}")
        # The group's ARN, or its streams' (arn:...:log-group:<name>:log-stream:<stream>).
        own_group = "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:${TrailwatchLogGroup}"
        for where, statement in stack.statements():
            if not actions(statement) & LOG_WRITE_ACTIONS:
                continue
            for resource in as_list(statement["Resource"]):
                if resource == {"Fn::GetAtt": ["TrailwatchLogGroup", "Arn"]}:
                    continue
                text = sub_text(resource)
                self.assertTrue(
                    text == own_group or text.startswith(own_group + ":"),
                    f"{where}: a logs write action on {text}, not the function's log group",
                )
        function = stack.resources["TrailwatchFunction"]["Properties"]
        self.assertEqual(function["LoggingConfig"]["LogGroup"], {"Ref": "TrailwatchLogGroup"})

    def test_failed_runs_can_still_reach_their_queue(self):
        statements = self.role_statements(self.stack())
        self.assertIn(
            {"Fn::GetAtt": ["FailedRunsQueue", "Arn"]},
            [statement["Resource"] for statement in self.granting(statements, "sqs:SendMessage")],
            "the OnFailure destination needs sqs:SendMessage for the function's role",
        )

    # --- Security Hub ---------------------------------------------------------------------

    def test_security_hub_actions_are_on_the_accounts_own_hub_and_product(self):
        for organization in ("false", "true"):
            stack = self.stack(Organization=organization)
            self.assert_security_hub_scoped(
                [s for _, s in stack.statements()], "${FindingsRegion}", "*"
            )
            # The findings region is SecurityHubRegion when set, else the stack's region.
            for statement in self.granting(self.role_statements(stack), "securityhub:GetFindings"):
                variables = statement["Resource"]["Fn::Sub"][1]
                self.assertEqual(variables, {"FindingsRegion": {"Ref": "AWS::Region"}})
        stack = self.stack(SecurityHubRegion="eu-west-1")
        for action in ("securityhub:BatchImportFindings", "securityhub:GetFindings"):
            for statement in self.granting(self.role_statements(stack), action):
                variables = statement["Resource"]["Fn::Sub"][1]
                self.assertEqual(variables, {"FindingsRegion": {"Ref": "SecurityHubRegion"}})

    # --- organization: scan queue and member roles ----------------------------------------

    def test_a_per_account_stack_has_no_queue_and_assumes_no_role(self):
        stack = self.stack()
        self.assertFalse(stack.of_type("AWS::SQS::QueuePolicy"))
        self.assertNotIn("ScanQueue", stack.resources)
        self.assertFalse(self.granting(self.role_statements(stack), "sts:AssumeRole"))

    def test_only_the_functions_role_sends_to_the_scan_queue(self):
        stack = self.stack(Organization="true")
        policies = [
            resource["Properties"]
            for resource in stack.of_type("AWS::SQS::QueuePolicy").values()
            if {"Ref": "ScanQueue"} in resource["Properties"]["Queues"]
        ]
        self.assertEqual(len(policies), 1, "ScanQueue needs exactly one AWS::SQS::QueuePolicy")
        statements = as_list(policies[0]["PolicyDocument"]["Statement"])
        denies = [s for s in statements if s["Effect"] == "Deny"]
        self.assertTrue(
            any(
                actions(s) & {"sqs:sendmessage", "sqs:*"}
                and s["Principal"] in ("*", {"AWS": "*"})
                and s.get("Condition") == {"StringNotEquals": {"aws:PrincipalArn": ROLE_ARN}}
                and s["Resource"] == {"Fn::GetAtt": ["ScanQueue", "Arn"]}
                for s in denies
            ),
            f"no Deny of sqs:SendMessage to principals other than the function's role: {denies}",
        )
        for statement in denies:
            # The event source mapping receives and deletes with the function's role.
            self.assertFalse(actions(statement) & (QUEUE_CONSUMER_ACTIONS | {"sqs:*"}), statement)
        allowed = set()
        for statement in statements:
            if statement["Effect"] == "Allow" and statement["Principal"] == {"AWS": ROLE_ARN}:
                allowed |= actions(statement)
        self.assertLessEqual({"sqs:sendmessage"} | QUEUE_CONSUMER_ACTIONS, allowed)
        # The role's own identity policy still grants what the trigger needs.
        for action in ("sqs:SendMessage", "sqs:ReceiveMessage", "sqs:DeleteMessage"):
            self.assertIn(
                {"Fn::GetAtt": ["ScanQueue", "Arn"]},
                [s["Resource"] for s in self.granting(self.role_statements(stack), action)],
            )

    def test_member_roles_are_assumed_only_within_the_organization(self):
        stack = self.stack(Organization="true")
        granted = self.granting(self.role_statements(stack), "sts:AssumeRole")
        self.assertTrue(granted, "nothing grants sts:AssumeRole")
        for statement in granted:
            self.assertEqual(
                statement.get("Condition", {}).get("StringEquals", {}).get("aws:ResourceOrgID"),
                "${aws:PrincipalOrgID}",
                statement,
            )
            self.assertEqual(
                statement["Resource"],
                {"Fn::Sub": "arn:${AWS::Partition}:iam::*:role/${MemberRoleName}"},
            )

    # --- event-driven re-check -------------------------------------------------------------

    def change_table(self):
        """The rows of the Rust table: (source, detail-type, eventSource or None, eventNames)."""
        with open(CHANGES_TABLE, encoding="utf-8") as file:
            text = file.read()
        constants = dict(re.findall(r'pub const (\w+): &str = "([^"]+)";', text))
        start = text.index("pub static CHANGES")
        table = text[start:text.index("\n];", start)]
        rows = []
        for block in table.split("ChangeKind {")[1:]:
            source = re.search(r'source: "([^"]+)"', block).group(1)
            detail_type = constants[re.search(r"detail_type: (\w+)", block).group(1)]
            event_source = re.search(r'event_source: (?:Some\("([^"]+)"\)|None)', block).group(1)
            names = re.search(r"event_names: &\[(.*?)\]", block, re.S).group(1)
            rows.append((source, detail_type, event_source, set(re.findall(r'"([^"]+)"', names))))
        self.assertGreaterEqual(len(rows), 11, rows)
        return rows

    def test_event_driven_recheck_is_off_by_default(self):
        stack = self.stack()
        self.assertFalse(stack.of_type("AWS::Events::Rule"))
        self.assertNotIn("ChangeQueue", stack.resources)
        variables = stack.resources["TrailwatchFunction"]["Properties"]["Environment"]["Variables"]
        self.assertNotIn("TRAILWATCH_CHANGE_QUEUE_ARN", variables)

    def test_the_rules_listen_for_exactly_the_change_table(self):
        rules = {
            name: resource
            for name, resource in self.template["Resources"].items()
            if resource["Type"] == "AWS::Events::Rule"
        }
        listened = set()
        for name, rule in rules.items():
            self.assertIn(rule.get("Condition"), ("IsEventDriven", "IsEventDrivenInUsEast1"), name)
            pattern = rule["Properties"]["EventPattern"]
            (source,) = pattern["source"]
            (detail_type,) = pattern["detail-type"]
            self.assertEqual(
                rule["Properties"]["Targets"],
                [{"Id": "change-queue", "Arn": {"Fn::GetAtt": ["ChangeQueue", "Arn"]}}],
                name,
            )
            # IAM's events reach us-east-1's EventBridge only.
            self.assertEqual(rule["Condition"] == "IsEventDrivenInUsEast1", source == "aws.iam", name)
            if "detail" in pattern:
                (event_source,) = pattern["detail"]["eventSource"]
                for event_name in pattern["detail"]["eventName"]:
                    listened.add((source, detail_type, event_source, event_name))
            else:
                listened.add((source, detail_type, None, None))
        table = set()
        for source, detail_type, event_source, names in self.change_table():
            for event_name in names or {None}:
                table.add((source, detail_type, event_source, event_name))
        self.assertEqual(listened, table)

    def test_only_the_stacks_rules_send_to_the_change_queue_and_the_function_polls_it(self):
        stack = self.stack(EventDrivenRecheck="true")
        rules = sorted(stack.of_type("AWS::Events::Rule"))
        self.assertEqual(len(rules), 6, "no IAM rule outside us-east-1")
        (policy,) = [
            resource["Properties"]
            for resource in stack.of_type("AWS::SQS::QueuePolicy").values()
            if {"Ref": "ChangeQueue"} in resource["Properties"]["Queues"]
        ]
        statements = as_list(policy["PolicyDocument"]["Statement"])
        senders = [s for s in statements if "sqs:sendmessage" in actions(s)]
        self.assertEqual(len(senders), 1, senders)
        self.assertEqual(senders[0]["Principal"], {"Service": "events.amazonaws.com"})
        source_arns = senders[0]["Condition"]["ArnEquals"]["aws:SourceArn"]
        self.assertEqual(sorted(arn["Fn::GetAtt"][0] for arn in source_arns), rules)
        queue = stack.resources["ChangeQueue"]["Properties"]
        self.assertEqual(
            queue["RedrivePolicy"]["deadLetterTargetArn"],
            {"Fn::GetAtt": ["ChangeDeadLetterQueue", "Arn"]},
        )
        (trigger,) = [
            resource["Properties"]
            for resource in stack.of_type("AWS::Lambda::EventSourceMapping").values()
            if resource["Properties"]["EventSourceArn"] == {"Fn::GetAtt": ["ChangeQueue", "Arn"]}
        ]
        self.assertEqual(
            trigger["MaximumBatchingWindowInSeconds"],
            {"Fn::FindInMap": ["ChangeQueue", "Trigger", "BatchingWindow"]},
        )
        window = self.template["Mappings"]["ChangeQueue"]["Trigger"]["BatchingWindow"]
        self.assertTrue(1 <= int(window) <= 60, "a burst waits at most a minute")
        self.assertEqual(trigger["FunctionResponseTypes"], ["ReportBatchItemFailures"])
        on_queue = [
            statement
            for statement in self.role_statements(stack)
            if {"Fn::GetAtt": ["ChangeQueue", "Arn"]} in as_list(statement["Resource"])
        ]
        self.assertEqual([actions(s) for s in on_queue], [QUEUE_CONSUMER_ACTIONS])
        variables = stack.resources["TrailwatchFunction"]["Properties"]["Environment"]["Variables"]
        self.assertEqual(
            variables["TRAILWATCH_CHANGE_QUEUE_ARN"], {"Fn::GetAtt": ["ChangeQueue", "Arn"]}
        )
    def test_only_the_functions_role_may_seal_and_verify_queue_messages(self):
        """The scan queue's messages are sealed with an HMAC key whose key policy lets only the
        function's role call kms:GenerateMac / kms:VerifyMac (HMAC_SHA_256), and no principal
        kms:CreateGrant (a grant could pass the use on); the account keeps the administration."""
        self.assertFalse(self.stack().of_type("AWS::KMS::Key"), "a per-account stack needs no key")
        self.assertNotIn(
            "TRAILWATCH_MESSAGE_KEY",
            self.stack().resources["TrailwatchFunction"]["Properties"]["Environment"]["Variables"],
        )
        stack = self.stack(Organization="true")
        keys = stack.of_type("AWS::KMS::Key")
        self.assertIn("MessageMacKey", keys)
        key = keys["MessageMacKey"]["Properties"]
        self.assertEqual((key["KeySpec"], key["KeyUsage"]), ("HMAC_256", "GENERATE_VERIFY_MAC"))
        variables = stack.resources["TrailwatchFunction"]["Properties"]["Environment"]["Variables"]
        self.assertEqual(
            variables["TRAILWATCH_MESSAGE_KEY"], {"Fn::GetAtt": ["MessageMacKey", "Arn"]}
        )
        statements = as_list(key["KeyPolicy"]["Statement"])
        self.assertFalse([s for s in statements if s["Effect"] != "Allow"])

        def covers(statement, action):
            return any(fnmatch.fnmatch(action, pattern) for pattern in actions(statement))

        for action in ("kms:generatemac", "kms:verifymac"):
            granted = [s for s in statements if covers(s, action)]
            self.assertEqual(len(granted), 1, f"{action}: {granted}")
            self.assertEqual(granted[0]["Principal"], {"AWS": ROLE_ARN})
            self.assertEqual(
                granted[0].get("Condition"),
                {"StringEquals": {"kms:MacAlgorithm": "HMAC_SHA_256"}},
            )
        for statement in statements:
            self.assertFalse(covers(statement, "kms:creategrant"), statement)
            if statement["Principal"] != {"AWS": ROLE_ARN}:
                self.assertFalse(
                    covers(statement, "kms:generatemac") or covers(statement, "kms:verifymac"),
                    statement,
                )
        # The account administers the key (the lockout safety check needs kms:PutKeyPolicy for
        # whoever deploys) without using it.
        administrators = [
            s
            for s in statements
            if s["Principal"]
            == {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}}
        ]
        self.assertEqual(len(administrators), 1, statements)
        self.assertIn("kms:putkeypolicy", actions(administrators[0]))
        # The identity policies grant no use of a key: the key policy alone does.
        for where, statement in stack.statements():
            for action in ("kms:generatemac", "kms:verifymac", "kms:creategrant"):
                self.assertFalse(covers(statement, action), f"{where}: {statement}")

    # --- operational alarms ---------------------------------------------------------------

    def alarms(self, stack):
        alarms = stack.of_type("AWS::CloudWatch::Alarm")
        self.assertTrue(alarms)
        return alarms

    def test_every_alarm_notifies_the_stacks_topic_by_default(self):
        for organization in ("false", "true"):
            stack = self.stack(Organization=organization)
            topics = stack.of_type("AWS::SNS::Topic")
            self.assertEqual(list(topics), ["AlarmTopic"], "the stack creates the alarm topic")
            # CloudWatch alarms cannot publish to a topic under the AWS managed SNS key.
            self.assertNotEqual(
                topics["AlarmTopic"].get("Properties", {}).get("KmsMasterKeyId"), "alias/aws/sns"
            )
            for name, alarm in self.alarms(stack).items():
                self.assertEqual(
                    alarm["Properties"].get("AlarmActions"), [{"Ref": "AlarmTopic"}], name
                )
            self.assertIn("ScanDeadLetterAlarm" if organization == "true" else "ErrorLogsAlarm",
                          self.alarms(stack))
            self.assertEqual(
                stack.resolve(stack.template["Outputs"]["AlarmTopicArn"]["Value"]),
                {"Ref": "AlarmTopic"},
            )

    def test_cloudwatch_may_publish_to_the_topic_for_this_account_only(self):
        stack = self.stack()
        policies = [
            resource["Properties"]
            for resource in stack.of_type("AWS::SNS::TopicPolicy").values()
            if {"Ref": "AlarmTopic"} in resource["Properties"]["Topics"]
        ]
        self.assertEqual(len(policies), 1)
        statements = as_list(policies[0]["PolicyDocument"]["Statement"])
        publishers = [
            s
            for s in statements
            if s["Effect"] == "Allow"
            and s["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
            and "sns:publish" in actions(s)
        ]
        self.assertEqual(len(publishers), 1, statements)
        self.assertEqual(
            publishers[0]["Condition"]["StringEquals"]["aws:SourceAccount"],
            {"Ref": "AWS::AccountId"},
        )

    def test_alarm_topic_arn_replaces_the_stacks_topic(self):
        arn = "arn:aws:sns:eu-west-1:111122223333:ops"
        stack = self.stack(AlarmTopicArn=arn, Organization="true")
        self.assertFalse(stack.of_type("AWS::SNS::Topic"))
        self.assertFalse(stack.of_type("AWS::SNS::Subscription"))
        for name, alarm in self.alarms(stack).items():
            self.assertEqual(alarm["Properties"]["AlarmActions"], [{"Ref": "AlarmTopicArn"}], name)

    def test_the_email_subscription_exists_only_when_alarm_email_is_set(self):
        self.assertIn("AlarmEmail", self.template["Parameters"], "no AlarmEmail parameter")
        self.assertEqual(self.template["Parameters"]["AlarmEmail"].get("Default"), "")
        self.assertFalse(self.stack().of_type("AWS::SNS::Subscription"))
        subscriptions = self.stack(AlarmEmail="ops@example.com").of_type("AWS::SNS::Subscription")
        self.assertEqual(len(subscriptions), 1)
        (subscription,) = subscriptions.values()
        self.assertEqual(
            subscription["Properties"],
            {"TopicArn": {"Ref": "AlarmTopic"}, "Protocol": "email", "Endpoint": {"Ref": "AlarmEmail"}},
        )

    def insights(self, **parameters):
        return {
            resource["Properties"]["Name"]: resource["Properties"]
            for resource in self.stack(**parameters).of_type("AWS::SecurityHub::Insight").values()
        }

    def test_insights_group_trailwatchs_failing_findings(self):
        insights = self.insights()
        self.assertEqual(len(insights), 2, insights)
        groups = set()
        for name, insight in insights.items():
            filters = insight["Filters"]
            self.assertEqual(filters["GeneratorId"], [{"Comparison": "PREFIX", "Value": "trailwatch/"}], name)
            self.assertEqual(filters["ComplianceStatus"], [{"Comparison": "EQUALS", "Value": "FAILED"}], name)
            self.assertEqual(filters["RecordState"], [{"Comparison": "EQUALS", "Value": "ACTIVE"}], name)
            groups.add(insight["GroupByAttribute"])
        self.assertEqual(groups, {"AwsAccountId", "GeneratorId"})

    def test_an_organization_stack_adds_the_unscannable_accounts_insight(self):
        insights = self.insights(Organization="true")
        self.assertEqual(len(insights), 3, insights)
        (coverage,) = [i for i in insights.values() if i["GroupByAttribute"] == "ResourceId"]
        self.assertEqual(
            coverage["Filters"]["GeneratorId"],
            [{"Comparison": "EQUALS", "Value": "trailwatch/scan-coverage"}],
        )
        self.assertEqual(
            coverage["Filters"]["ComplianceStatus"], [{"Comparison": "EQUALS", "Value": "NOT_AVAILABLE"}]
        )

    def test_insights_are_made_only_where_the_findings_are(self):
        self.assertEqual(self.insights(SecurityHubRegion="eu-west-1", Organization="true"), {})

    def test_sam_generates_no_role_of_its_own(self):
        """The template through SAM's own transform (when the SAM translator is installed, as in
        the virtualenv): one IAM role, the template's, without AWSLambdaBasicExecutionRole."""
        try:
            from samtranslator.translator.transform import transform
        except ImportError:
            self.skipTest("samtranslator is not installed")

        class NoManagedPolicies:
            def load(self):
                return {}

        template = copy.deepcopy(self.template)
        # The transform wants an S3 URI where `sam build` would have put one.
        template["Resources"]["TrailwatchFunction"]["Properties"]["CodeUri"] = "s3://bucket/key"
        region = os.environ.get("AWS_DEFAULT_REGION")
        os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
        try:
            output = transform(template, {"Organization": "true"}, NoManagedPolicies())
        finally:
            if region is None:
                del os.environ["AWS_DEFAULT_REGION"]
            else:
                os.environ["AWS_DEFAULT_REGION"] = region
        roles = [
            name
            for name, resource in output["Resources"].items()
            if resource["Type"] == "AWS::IAM::Role"
        ]
        self.assertEqual(roles, [ROLE])
        self.assertNotIn("AWSLambdaBasicExecutionRole", json.dumps(output))


class ChangeForwarderTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.template = load(CHANGE_FORWARDER)
        cls.central = load(TEMPLATE)

    @staticmethod
    def rules(template):
        return {
            name: resource
            for name, resource in template["Resources"].items()
            if resource["Type"] == "AWS::Events::Rule"
        }

    def test_it_forwards_exactly_the_central_stacks_events_to_the_central_bus(self):
        forwarded = self.rules(self.template)
        central = self.rules(self.central)
        self.assertEqual(sorted(forwarded), sorted(central))
        bus = {
            "Fn::Sub": "arn:${AWS::Partition}:events:${CentralRegion}:${CentralAccountId}:event-bus/default"
        }
        for name, rule in forwarded.items():
            self.assertEqual(
                rule["Properties"]["EventPattern"], central[name]["Properties"]["EventPattern"], name
            )
            self.assertEqual(
                rule["Properties"]["Targets"],
                [{"Id": "central-bus", "Arn": bus, "RoleArn": {"Fn::GetAtt": ["ForwardingRole", "Arn"]}}],
                name,
            )
            self.assertEqual(rule["Condition"] == "ForwardsIam", name == "DeliveryRoleChangesRule")
        (policy,) = self.template["Resources"]["ForwardingRole"]["Properties"]["Policies"]
        (statement,) = policy["PolicyDocument"]["Statement"]
        self.assertEqual((statement["Action"], statement["Resource"]), ("events:PutEvents", bus))

    def test_nothing_is_created_in_the_central_region_of_the_central_account(self):
        central = Stack(self.template, CentralAccountId="<AWS::AccountId>", CentralRegion="<AWS::Region>")
        self.assertEqual(central.resources, {})
        member = Stack(self.template, CentralAccountId="111122223333", CentralRegion="eu-west-1")
        self.assertIn("ForwardingRole", member.resources)
        self.assertEqual(len([r for r in member.resources.values() if r["Type"] == "AWS::Events::Rule"]), 6)

    def test_the_central_bus_accepts_only_the_organizations_accounts(self):
        stack = Stack(self.central, EventDrivenRecheck="true", ForwardedFromOrganization="o-abcdefghij")
        (policy,) = stack.of_type("AWS::Events::EventBusPolicy").values()
        statement = policy["Properties"]["Statement"]
        self.assertEqual(statement["Action"], "events:PutEvents")
        self.assertEqual(
            statement["Condition"],
            {"StringEquals": {"aws:PrincipalOrgID": {"Ref": "ForwardedFromOrganization"}}},
        )
        self.assertFalse(Stack(self.central, EventDrivenRecheck="true").of_type("AWS::Events::EventBusPolicy"))


class MemberRoleTest(PolicyAssertions):
    @classmethod
    def setUpClass(cls):
        cls.template = load(MEMBER_ROLE)

    def statements(self, **parameters):
        stack = Stack(self.template, TrailwatchRoleArn="arn:aws:iam::111122223333:role/x", **parameters)
        return [statement for _, statement in stack.statements()], stack

    def test_security_hub_actions_are_on_the_members_own_hub_and_product(self):
        statements, _ = self.statements()
        self.assert_security_hub_scoped(statements, "*", "*")

    def test_the_role_trusts_only_the_functions_role(self):
        for external_id, condition in (
            ("", None),
            ("s3cret", {"StringEquals": {"sts:ExternalId": {"Ref": "ExternalId"}}}),
        ):
            _, stack = self.statements(ExternalId=external_id)
            role = stack.of_type("AWS::IAM::Role")["MemberRole"]["Properties"]
            (trust,) = as_list(role["AssumeRolePolicyDocument"]["Statement"])
            self.assertEqual(trust["Principal"], {"AWS": {"Ref": "TrailwatchRoleArn"}})
            self.assertEqual(actions(trust), {"sts:assumerole"})
            self.assertEqual(trust.get("Condition"), condition)

    def test_no_wildcard_actions(self):
        statements, _ = self.statements()
        for statement in statements:
            self.assertFalse(actions(statement) & {"*", "logs:*", "securityhub:*"}, statement)



if __name__ == "__main__":
    unittest.main()
