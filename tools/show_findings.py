"""Prints the trailwatch findings Security Hub holds (GetFindings), as a table and as ASFF JSON.

Usage: show_findings.py ENDPOINT_URL [JSON_OUT]
"""

import json
import sys

import boto3

hub = boto3.client(
    "securityhub",
    region_name="us-east-1",
    endpoint_url=sys.argv[1],
    aws_access_key_id="demo",
    aws_secret_access_key="demo",
)
findings = []
for page in hub.get_paginator("get_findings").paginate(
    Filters={"GeneratorId": [{"Value": "trailwatch/", "Comparison": "PREFIX"}]}
):
    findings += [f for f in page["Findings"] if f["GeneratorId"].startswith("trailwatch/")]

print(f"\nSecurity Hub holds {len(findings)} trailwatch finding(s):\n")
for finding in sorted(findings, key=lambda f: (f["Compliance"]["Status"], f["GeneratorId"])):
    print(
        f'{finding["Compliance"]["Status"]:<14} {finding["GeneratorId"]:<34} '
        f'{finding["RecordState"]:<8} {finding["Resources"][0]["Id"]}'
    )
    print(f'{"":<14} {finding["Description"]}\n')
if len(sys.argv) > 2:
    with open(sys.argv[2], "w") as out:
        json.dump(findings, out, indent=2, default=str)
    print(f"(full ASFF written to {sys.argv[2]})")
