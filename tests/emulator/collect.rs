//! Collection against the emulator: the Snapshot that `trailwatch::collect::collect` reads from
//! account states built through the real APIs — trails, selectors, filters, alarms, topics, read
//! errors and the number of API calls.

use crate::support::{
    fresh_account, log_group_arn, AlarmSpec, ChainSpec, SubscriptionSpec, TrailSpec,
};
use aws_sdk_cloudtrail::types::{AdvancedEventSelector, AdvancedFieldSelector};
use time::{Duration, OffsetDateTime};
use trailwatch::collect::{collect, CollectPlan, Needs};
use trailwatch::model::findings::{ComplianceStatus, ResourceKind};
use trailwatch::model::snapshot::{ClassicEventSelector, ReadErrorKind, RegionSource};

fn plan(regions: &[&str]) -> CollectPlan {
    CollectPlan {
        regions: Some(regions.iter().map(|r| r.to_string()).collect()),
        needs: Needs::ALL,
        ..CollectPlan::default()
    }
}

#[tokio::test]
async fn collects_a_whole_chain_across_regions() {
    let account = fresh_account().await;
    let mut spec = ChainSpec::new("full", "{ ($.eventName = CreateTrail) }").in_region("eu-west-1");
    spec.subscriptions
        .push(SubscriptionSpec::Pending("pending@example.com".into()));
    let seeded = account.seed_chain(&spec).await;

    let snapshot = collect(&account.sdk, &plan(&["us-east-1", "eu-west-1"]))
        .await
        .unwrap();

    assert_eq!(snapshot.account_id, account.id);
    assert_eq!(snapshot.partition, "aws");
    assert_eq!(snapshot.regions, ["us-east-1", "eu-west-1"]);
    assert_eq!(snapshot.read_errors, []);

    // Seen from both regions (home and shadow), kept once.
    assert_eq!(snapshot.chains.trails.len(), 1);
    let trail = &snapshot.chains.trails[0];
    assert_eq!(Some(&trail.arn), seeded.trail_arn.as_ref());
    assert_eq!(trail.name, "full-trail");
    assert_eq!(trail.home_region, "us-east-1");
    assert!(trail.is_multi_region && !trail.is_organization_trail);
    assert_eq!(trail.log_group_arn.as_ref(), Some(&seeded.log_group_arn));
    let status = trail.status.as_ref().unwrap();
    assert!(status.is_logging);
    let delivered = status.latest_cloudwatch_logs_delivery_time.unwrap();
    let age = OffsetDateTime::now_utc() - delivered;
    assert!(
        age > Duration::seconds(30) && age < Duration::seconds(600),
        "{age}"
    );
    assert_eq!(
        trail.event_selectors.as_ref().unwrap().classic,
        [ClassicEventSelector {
            read_write_type: "All".into(),
            include_management_events: true,
            exclude_management_event_sources: vec![],
        }]
    );

    assert_eq!(snapshot.chains.log_groups.len(), 1);
    let group = &snapshot.chains.log_groups[0];
    assert_eq!(
        (
            group.name.as_str(),
            group.region.as_str(),
            group.account_id.as_str()
        ),
        ("CloudTrail/full", "eu-west-1", account.id.as_str())
    );
    let filters = group.metric_filters.as_ref().unwrap();
    assert_eq!(filters.len(), 1);
    assert_eq!(filters[0].name, "full-filter");
    assert_eq!(filters[0].pattern, "{ ($.eventName = CreateTrail) }");
    assert_eq!(
        filters[0].metric_transformations[0].metric_name,
        "full-metric"
    );
    assert_eq!(
        filters[0].metric_transformations[0].metric_namespace,
        "CISBenchmark"
    );

    let alarms = snapshot
        .chains
        .alarm_set(&account.id, "eu-west-1")
        .unwrap()
        .alarms
        .as_ref()
        .unwrap();
    assert_eq!(alarms.len(), 1);
    assert_eq!(Some(&alarms[0].arn), seeded.alarm_arn.as_ref());
    assert!(alarms[0].actions_enabled);
    assert_eq!(alarms[0].alarm_actions, vec![seeded.topic_arn.clone()]);

    assert_eq!(snapshot.chains.topics.len(), 1);
    let topic = snapshot.chains.topic(&seeded.topic_arn).unwrap();
    assert_eq!(topic.region, "eu-west-1");
    let mut confirmed: Vec<(bool, &str)> = topic
        .subscriptions
        .as_ref()
        .unwrap()
        .iter()
        .map(|s| (s.is_confirmed(), s.endpoint.as_str()))
        .collect();
    confirmed.sort();
    assert_eq!(
        confirmed,
        [
            (false, "pending@example.com"),
            (true, "security@example.com")
        ]
    );

    // The confirmed subscription's filter policy was read; the pending one has no ARN to
    // read it by.
    let filters: Vec<bool> = topic
        .subscriptions
        .as_ref()
        .unwrap()
        .iter()
        .map(|s| s.filter.is_some())
        .collect();
    assert_eq!(filters.iter().filter(|read| **read).count(), 1);
    let attributes = topic.attributes.as_ref().expect("GetTopicAttributes");
    assert!(attributes.policy.is_some() && attributes.kms_master_key_id.is_none());

    // GetCallerIdentity, DescribeTrails ×2, GetTrailStatus, GetEventSelectors,
    // DescribeMetricFilters, DescribeAlarms, ListSubscriptionsByTopic, GetTopicAttributes,
    // GetSubscriptionAttributes (the confirmed subscription only).
    assert_eq!(snapshot.api_calls, 10);
}

#[tokio::test]
async fn scans_the_enabled_regions_by_default() {
    let account = fresh_account().await;
    let snapshot = collect(&account.sdk, &CollectPlan::default())
        .await
        .unwrap();
    assert_eq!(snapshot.regions.len(), 18, "{:?}", snapshot.regions);
    assert!(
        snapshot.regions.contains(&"eu-south-1".to_string()),
        "opted in"
    );
    assert!(
        !snapshot.regions.contains(&"af-south-1".to_string()),
        "disabled"
    );
    assert!(snapshot.chains.trails.is_empty() && snapshot.chains.log_groups.is_empty());
    assert_eq!(snapshot.read_errors, []);
    // GetCallerIdentity, ListRegions, DescribeTrails in each region.
    assert_eq!(snapshot.api_calls, 2 + 18);
}

/// An SCP denying `account:*` makes ListRegions fail: the scan lists trails in every region of
/// the partition it knows, drops those that answer as not enabled, and says the scope is a guess.
#[tokio::test]
async fn a_denied_list_regions_falls_back_to_the_known_regions_and_says_so() {
    let account = fresh_account().await;
    account
        .create_trail(
            &TrailSpec::new("regional")
                .region("eu-south-1")
                .single_region(),
        )
        .await;
    let denied = account.denying(&["account:ListRegions"]).await;
    let snapshot = collect(&denied.sdk, &CollectPlan::default()).await.unwrap();
    let RegionSource::KnownRegions { reason } = &snapshot.region_source else {
        panic!("{:?}", snapshot.region_source);
    };
    assert!(
        reason.starts_with("account:ListRegions failed (AccessDenied)"),
        "{reason}"
    );
    for disabled in ["af-south-1", "ap-east-1", "me-south-1"] {
        assert!(
            !snapshot.regions.contains(&disabled.to_string()),
            "{disabled}"
        );
    }
    assert!(snapshot.regions.contains(&"eu-south-1".to_string()));
    assert_eq!(
        snapshot.chains.trails.len(),
        1,
        "the single-Region trail is seen"
    );
    let errors: Vec<&str> = snapshot
        .read_errors
        .iter()
        .map(|error| error.operation.as_str())
        .collect();
    assert_eq!(errors, ["account:ListRegions"]);

    let findings = trailwatch::controls::evaluate(
        &snapshot,
        &[trailwatch::controls::control("trail-cw-logs").unwrap()],
        trailwatch::controls::CisVersion::newest(),
    );
    let scope: Vec<_> = findings
        .iter()
        .filter(|finding| finding.resource.kind == ResourceKind::Account)
        .collect();
    assert_eq!(scope.len(), 1, "{findings:#?}");
    assert_eq!(scope[0].status, ComplianceStatus::NotAvailable);
    assert!(
        scope[0]
            .summary
            .starts_with("the enabled regions are unknown: account:ListRegions failed"),
        "{}",
        scope[0].summary
    );
}

#[tokio::test]
async fn a_typical_account_costs_27_calls() {
    let account = fresh_account().await;
    account
        .seed_chain(&ChainSpec::new("typical", "{ $.eventName = CreateTrail }"))
        .await;
    let snapshot = collect(&account.sdk, &CollectPlan::default())
        .await
        .unwrap();
    assert_eq!(snapshot.chains.trails.len(), 1);
    assert_eq!(snapshot.chains.topics.len(), 1);
    // GetCallerIdentity, ListRegions, DescribeTrails ×18, GetTrailStatus, GetEventSelectors,
    // DescribeMetricFilters, DescribeAlarms, ListSubscriptionsByTopic, GetTopicAttributes,
    // GetSubscriptionAttributes.
    assert_eq!(snapshot.api_calls, 27);
}

#[tokio::test]
async fn pages_through_filters_and_keeps_only_alarms_on_their_metrics() {
    let account = fresh_account().await;
    let group = account
        .create_log_group("us-east-1", "CloudTrail/many")
        .await;
    account
        .create_trail(&TrailSpec::new("many-trail").log_group(&group))
        .await;
    for i in 0..55 {
        account
            .put_metric_filter(
                "us-east-1",
                "CloudTrail/many",
                &format!("f{i:02}"),
                "{ $.eventName = CreateTrail }",
                &format!("m{i:02}"),
                "NS",
            )
            .await;
    }
    let mut math = AlarmSpec::new("math-on-m09", "m09", "NS");
    math.math = true;
    for alarm in [
        AlarmSpec::new("on-m07", "m07", "NS"),
        math,
        AlarmSpec::new("wrong-namespace", "m07", "Other"),
        AlarmSpec::new("unrelated", "CPUUtilization", "AWS/EC2"),
    ] {
        account.put_alarm("us-east-1", &alarm).await;
    }

    let snapshot = collect(&account.sdk, &plan(&["us-east-1"])).await.unwrap();

    let filters = snapshot.chains.log_groups[0]
        .metric_filters
        .as_ref()
        .unwrap();
    assert_eq!(filters.len(), 55);
    let alarms = snapshot.chains.alarm_sets[0].alarms.as_ref().unwrap();
    let names: Vec<&str> = alarms.iter().map(|a| a.name.as_str()).collect();
    // The wrong-namespace alarm is kept as a near miss for the evidence; the evaluator requires
    // the namespace.
    assert_eq!(names, ["math-on-m09", "on-m07", "wrong-namespace"]);
    assert_eq!(alarms[0].metrics[0].metric_name, "m09");
    assert!(snapshot.chains.topics.is_empty());
    // GetCallerIdentity, DescribeTrails, GetTrailStatus, GetEventSelectors,
    // DescribeMetricFilters ×2 (50 + 5), DescribeAlarms.
    assert_eq!(snapshot.api_calls, 7);
}

#[tokio::test]
async fn shared_log_groups_are_read_once_and_advanced_selectors_are_kept() {
    let account = fresh_account().await;
    let group = account
        .create_log_group("eu-west-1", "CloudTrail/shared")
        .await;
    account
        .create_trail(&TrailSpec::new("global").log_group(&group))
        .await;
    let management = AdvancedEventSelector::builder()
        .name("management")
        .field_selectors(
            AdvancedFieldSelector::builder()
                .field("eventCategory")
                .equals("Management")
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    // The same group, named without CloudTrail's `:*`.
    account
        .create_trail(
            &TrailSpec::new("local")
                .region("eu-west-1")
                .log_group(group.trim_end_matches(":*"))
                .advanced(vec![management]),
        )
        .await;
    // A single-Region trail completes no chain: its status is read (CIS 3.4), its selectors and
    // its log group are not.
    let own_group = account
        .create_log_group("eu-west-1", "CloudTrail/regional")
        .await;
    account
        .create_trail(
            &TrailSpec::new("regional")
                .region("eu-west-1")
                .single_region()
                .log_group(&own_group),
        )
        .await;

    let snapshot = collect(&account.sdk, &plan(&["us-east-1", "eu-west-1"]))
        .await
        .unwrap();

    // Sorted by ARN: the eu-west-1 trails first.
    let names: Vec<&str> = snapshot
        .chains
        .trails
        .iter()
        .map(|t| t.name.as_str())
        .collect();
    assert_eq!(names, ["local", "regional", "global"]);
    let local = &snapshot.chains.trails[0];
    assert_eq!(local.home_region, "eu-west-1");
    let regional = &snapshot.chains.trails[1];
    assert!(regional.status.is_ok());
    assert_eq!(
        regional.event_selectors.as_ref().unwrap_err().kind,
        ReadErrorKind::NotNeeded
    );
    let selectors = local.event_selectors.as_ref().unwrap();
    assert!(selectors.classic.is_empty());
    assert_eq!(selectors.advanced[0].name.as_deref(), Some("management"));
    assert_eq!(
        selectors.advanced[0].field_selectors[0].equals,
        ["Management"]
    );
    assert_eq!(snapshot.chains.log_groups.len(), 1);
    assert!(snapshot.chains.log_group(&group).is_some());
    assert!(
        snapshot.chains.alarm_sets.is_empty(),
        "no filters, no alarm reads"
    );
}

#[tokio::test]
async fn unreadable_things_are_read_errors_in_place() {
    let account = fresh_account().await;
    let foreign = log_group_arn("999988887777", "us-east-1", "CloudTrail/org");
    account
        .create_trail(&TrailSpec::new("to-elsewhere").log_group(&foreign))
        .await;

    let snapshot = collect(&account.sdk, &plan(&["us-east-1", "af-south-1"]))
        .await
        .unwrap();

    let group = snapshot.chains.log_group(&foreign).unwrap();
    let error = group.metric_filters.as_ref().unwrap_err();
    assert_eq!(error.kind, ReadErrorKind::OtherAccount);
    assert_eq!(error.resource.as_ref(), Some(&foreign));
    assert!(error.message.contains("999988887777"), "{}", error.message);

    assert_eq!(snapshot.read_errors.len(), 1);
    let region = &snapshot.read_errors[0];
    assert_eq!(region.operation, "cloudtrail:DescribeTrails");
    assert_eq!(region.region, "af-south-1");
    assert_eq!(region.kind, ReadErrorKind::RegionUnavailable);
    assert_eq!(region.code.as_deref(), Some("UnrecognizedClientException"));
    // GetCallerIdentity, DescribeTrails ×2, GetTrailStatus, GetEventSelectors: nothing is asked
    // of the other account.
    assert_eq!(snapshot.api_calls, 5);
}

#[tokio::test]
async fn access_denied_is_kept_next_to_what_it_hides() {
    let account = fresh_account().await;
    account
        .seed_chain(&ChainSpec::new("denied", "{ $.eventName = CreateTrail }"))
        .await;
    let restricted = account
        .denying(&["cloudwatch:DescribeAlarms", "cloudtrail:GetEventSelectors"])
        .await;

    let snapshot = collect(&restricted.sdk, &plan(&["us-east-1"]))
        .await
        .unwrap();

    let selectors = snapshot.chains.trails[0]
        .event_selectors
        .as_ref()
        .unwrap_err();
    assert_eq!(selectors.kind, ReadErrorKind::AccessDenied);
    assert_eq!(selectors.operation, "cloudtrail:GetEventSelectors");
    assert!(snapshot.chains.trails[0].status.is_ok());
    let alarms = snapshot.chains.alarm_sets[0].alarms.as_ref().unwrap_err();
    assert_eq!(alarms.kind, ReadErrorKind::AccessDenied);
    assert_eq!(alarms.code.as_deref(), Some("AccessDenied"));
    assert!(alarms.message.contains("cloudwatch:DescribeAlarms"));
    assert!(snapshot.chains.topics.is_empty());
    assert!(snapshot.chains.log_groups[0].metric_filters.is_ok());
}

#[tokio::test]
async fn throttled_calls_are_retried_and_every_attempt_counted() {
    let account = fresh_account().await;
    account
        .create_trail(&TrailSpec::new("busy").throttled(2))
        .await;
    let snapshot = collect(&account.sdk, &plan(&["us-east-1"])).await.unwrap();
    assert!(
        snapshot.chains.trails[0]
            .status
            .as_ref()
            .unwrap()
            .is_logging
    );
    assert_eq!(snapshot.read_errors, []);
    // GetCallerIdentity, DescribeTrails, GetTrailStatus ×3 (two throttled), GetEventSelectors.
    assert_eq!(snapshot.api_calls, 6);
}

#[tokio::test]
async fn without_an_identity_there_is_nothing_to_collect() {
    let account = fresh_account().await;
    let anonymous = account.denying(&["sts:GetCallerIdentity"]).await;
    let error = collect(&anonymous.sdk, &plan(&["us-east-1"]))
        .await
        .unwrap_err();
    // GetCallerIdentity needs no permission, so only an explicit deny (here the session
    // policy's) refuses it.
    match &error {
        trailwatch::collect::CollectError::Identity(failure) => assert!(
            matches!(
                failure.cause,
                trailwatch::collect::identity::IdentityCause::AccessDenied { .. }
            ),
            "{failure:?}"
        ),
        other => panic!("{other:?}"),
    }
    assert!(
        error
            .to_string()
            .starts_with("sts:GetCallerIdentity was denied in us-east-1 (AccessDenied"),
        "{error}"
    );
    let error = collect(&account.sdk, &plan(&[" "])).await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "no region to scan: the plan names no region"
    );
}

#[tokio::test]
async fn a_key_shared_by_two_topics_is_read_once() {
    let account = fresh_account().await;
    let first = account
        .seed_chain(&ChainSpec::new("keyone", "{ $.eventName = CreateTrail }"))
        .await;
    let second = account
        .seed_chain(&ChainSpec::new("keytwo", "{ $.eventName = DeleteTrail }"))
        .await;
    let kms = aws_sdk_kms::Client::new(&account.sdk);
    let key = kms.create_key().send().await.expect("kms:CreateKey");
    let key_arn = key.key_metadata().unwrap().arn().unwrap().to_string();
    let sns = aws_sdk_sns::Client::new(&account.sdk);
    for topic in [&first.topic_arn, &second.topic_arn] {
        sns.set_topic_attributes()
            .topic_arn(topic)
            .attribute_name("KmsMasterKeyId")
            .attribute_value(&key_arn)
            .send()
            .await
            .expect("sns:SetTopicAttributes");
    }
    let plan = CollectPlan {
        regions: Some(vec!["us-east-1".to_string()]),
        ..CollectPlan::default()
    };
    let snapshot = collect(&account.sdk, &plan).await.unwrap();
    assert_eq!(snapshot.chains.topics.len(), 2);
    for topic in &snapshot.chains.topics {
        let attributes = topic.attributes.as_ref().unwrap();
        let key = attributes.key.as_ref().unwrap().as_ref().unwrap();
        assert_eq!(key.arn, key_arn);
        assert_eq!(
            (key.key_manager.as_str(), key.key_state.as_str()),
            ("CUSTOMER", "Enabled")
        );
        assert!(matches!(key.policy, Some(Ok(_))));
    }
    let calls = &snapshot.api_calls_by_operation;
    assert_eq!(calls.get("kms:DescribeKey"), Some(&1), "{calls:?}");
    assert_eq!(calls.get("kms:GetKeyPolicy"), Some(&1), "{calls:?}");
    assert_eq!(calls.get("sns:GetTopicAttributes"), Some(&2), "{calls:?}");
}
