//! The emulator as the harness documents it: account isolation, the wrapper's patches, and a
//! seeded chain read back through the SDK. If these fail, every other emulator test is suspect.

use crate::support::{fresh_account, ChainSpec, SubscriptionSpec};

#[tokio::test]
async fn accounts_are_isolated_and_named_by_sts() {
    let a = fresh_account().await;
    let b = fresh_account().await;
    assert_ne!(a.id, b.id);
    let identity = aws_sdk_sts::Client::new(&a.sdk)
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert_eq!(identity.account(), Some(a.id.as_str()));
    a.create_log_group("us-east-1", "only-in-a").await;
    let seen_by_b = aws_sdk_cloudwatchlogs::Client::new(&b.sdk)
        .describe_log_groups()
        .send()
        .await
        .unwrap();
    assert!(seen_by_b.log_groups().is_empty());
}

#[tokio::test]
async fn seeded_chain_reads_back_with_the_wrapper_patches() {
    let account = fresh_account().await;
    let mut spec =
        ChainSpec::new("harness", "{ $.eventName = CreateTrail }").in_region("eu-west-1");
    spec.subscriptions
        .push(SubscriptionSpec::Pending("pending@example.com".into()));
    let seeded = account.seed_chain(&spec).await;
    let trail_arn = seeded.trail_arn.unwrap();

    let cloudtrail = aws_sdk_cloudtrail::Client::new(&account.sdk);
    let status = cloudtrail
        .get_trail_status()
        .name(&trail_arn)
        .send()
        .await
        .unwrap();
    assert_eq!(status.is_logging(), Some(true));
    assert!(status.latest_cloud_watch_logs_delivery_time().is_some());
    let selectors = cloudtrail
        .get_event_selectors()
        .trail_name(&trail_arn)
        .send()
        .await
        .unwrap();
    assert_eq!(
        selectors.event_selectors().len(),
        1,
        "AWS's default selector"
    );

    let topics = aws_sdk_sns::Client::new(&account.sdk_in("eu-west-1"))
        .list_subscriptions_by_topic()
        .topic_arn(&seeded.topic_arn)
        .send()
        .await
        .unwrap();
    let mut arns: Vec<&str> = topics
        .subscriptions()
        .iter()
        .map(|s| s.subscription_arn().unwrap())
        .collect();
    arns.sort();
    assert_eq!(arns.len(), 2);
    assert_eq!(arns[0], "PendingConfirmation");
    assert!(arns[1].starts_with("arn:aws:sns:eu-west-1:"));

    let regions = aws_sdk_account::Client::new(&account.sdk)
        .list_regions()
        .region_opt_status_contains(aws_sdk_account::types::RegionOptStatus::Enabled)
        .region_opt_status_contains(aws_sdk_account::types::RegionOptStatus::EnabledByDefault)
        .send()
        .await
        .unwrap();
    assert!(regions
        .regions()
        .iter()
        .any(|r| r.region_name() == Some("eu-south-1")));
    assert!(!regions
        .regions()
        .iter()
        .any(|r| r.region_name() == Some("af-south-1")));
}
