"""Validates trailwatch's `--format ocsf` output (a JSON array on stdin) against the OCSF models of
py-ocsf-models (pinned in requirements-dev.txt): every event must parse as a Compliance Finding,
and every field trailwatch wrote must survive the model unchanged (a field the model does not
know, or a value it would coerce, fails). `cloud` is an OCSF profile attribute the library models
only on its Detection Finding; it is validated with the library's Cloud object.

Prints the OCSF version and the number of events; exits 1 naming the first problem."""

import json
import sys

from py_ocsf_models import OCSF_VERSION
from py_ocsf_models.events.findings.compliance_finding import ComplianceFinding
from py_ocsf_models.objects.cloud import Cloud


def subset_problem(ours, model, path):
    """The first field of `ours` that `model` (the validated dump) lacks or holds differently."""
    if isinstance(ours, dict):
        if not isinstance(model, dict):
            return f"{path}: an object became {model!r}"
        for key, value in ours.items():
            if key not in model:
                return f"{path}.{key}: not a field of the OCSF model"
            problem = subset_problem(value, model[key], f"{path}.{key}")
            if problem:
                return problem
        return None
    if isinstance(ours, list):
        if not isinstance(model, list) or len(model) != len(ours):
            return f"{path}: a list of {len(ours)} became {model!r}"
        for n, (a, b) in enumerate(zip(ours, model)):
            problem = subset_problem(a, b, f"{path}[{n}]")
            if problem:
                return problem
        return None
    if ours != model:
        return f"{path}: {ours!r} became {model!r}"
    return None


def problem_of(event):
    event = dict(event)
    cloud = event.pop("cloud", None)
    if cloud is None:
        return "no cloud profile attribute"
    dumped_cloud = Cloud.model_validate(cloud).model_dump(mode="json", exclude_none=True)
    problem = subset_problem(cloud, dumped_cloud, "cloud")
    if problem:
        return problem
    finding = ComplianceFinding.model_validate(event)
    if finding.metadata.version != OCSF_VERSION:
        return f"metadata.version {finding.metadata.version} is not {OCSF_VERSION}"
    # Opaque evidence data (a free-form object in OCSF) is compared as written.
    dumped = finding.model_dump(mode="json", exclude_none=True)
    return subset_problem(event, dumped, "event")


def main():
    events = json.load(sys.stdin)
    if not isinstance(events, list):
        print("not a JSON array", file=sys.stderr)
        return 1
    for n, event in enumerate(events):
        try:
            problem = problem_of(event)
        except Exception as error:  # pydantic's ValidationError names the field
            problem = str(error)
        if problem:
            print(f"event {n}: {problem}", file=sys.stderr)
            return 1
    print(f"OCSF {OCSF_VERSION}: {len(events)} Compliance Finding event(s) valid")
    return 0


if __name__ == "__main__":
    sys.exit(main())
