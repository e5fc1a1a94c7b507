//! Security Hub's ASFF field limits, kept in one place: [`within_limits`] brings any
//! [`AsffFinding`] within them, whatever produced it, and says so on the finding when it changes
//! anything. [`asff::from_findings`](super::asff::from_findings) applies it to every converted
//! finding, and [`publish`](super::publish) to every finding it is given and every finding it
//! reads back, before planning and batching.
//!
//! The limits are written in the text of the AWS Security Hub API Reference — "AwsSecurityFinding"
//! (<https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_AwsSecurityFinding.html>) and
//! its nested types "Recommendation", "Compliance" — not in the service model, so neither the SDK
//! nor moto checks them; Security Hub rejects a finding that exceeds one.
//!
//! How each kind of field is kept within its limit:
//!
//! - text (`Title`, `Description`, `Remediation.Recommendation.Text`,
//!   `Compliance.StatusReasons[].Description`, `ProductFields` values) is cut on a character
//!   boundary and ends in the visible marker `… [cut: N more characters]`;
//! - identifiers (`Id`, `GeneratorId`, `ProductFields` keys) keep a prefix followed by
//!   `…[sha256:<hex>]`, the SHA-256 of the whole identifier: a rerun yields the same value, and
//!   identifiers that differ anywhere stay different;
//! - lists (`Resources`, `Types`, `FindingProviderFields.Types`,
//!   `Compliance.RelatedRequirements`) keep their first items, which trailwatch writes most
//!   important first (the finding's subject, then the chain in order);
//! - over 50 `ProductFields` pairs: the least important pairs (chain links from the end of the
//!   chain first) are merged, as `key=value` lines, into the one pair [`MERGED_FIELD`].
//!
//! Every change is listed in the pair [`LIMITS_FIELD`], so a reader of the finding knows it was cut
//! and where. Lengths are counted in UTF-8 bytes: the reference gives lengths without saying
//! whether it counts bytes or characters, and a text of at most N bytes has at most N characters.
//! [`within_limits`] is idempotent: a finding within the limits comes back unchanged.

use super::asff::{
    AsffFinding, CONTROL_ID_FIELD, COUNTEREXAMPLE_FIELD, EVIDENCE_FIELD, MISSING_FIELD,
    MISSING_KIND_FIELD, PRODUCT_PREFIX,
};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// `Id`: "Length Constraints: Minimum length of 1. Maximum length of 512." (API_AwsSecurityFinding)
pub const ID_MAX: usize = 512;
/// `GeneratorId`: "Length Constraints: Minimum length of 1. Maximum length of 512."
/// (API_AwsSecurityFinding)
pub const GENERATOR_ID_MAX: usize = 512;
/// `Title`: "Length Constraints: Minimum length of 1. Maximum length of 256."
/// (API_AwsSecurityFinding)
pub const TITLE_MAX: usize = 256;
/// `Description`: "Length Constraints: Minimum length of 1. Maximum length of 1024."
/// (API_AwsSecurityFinding)
pub const DESCRIPTION_MAX: usize = 1024;
/// `Remediation.Recommendation.Text`: "Length Constraints: Minimum of 1 length. Maximum of 512
/// length." (API_Recommendation,
/// <https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_Recommendation.html>)
pub const RECOMMENDATION_TEXT_MAX: usize = 512;
/// `Compliance.StatusReasons[].Description`: the reference documents no length ("Type: String
/// Pattern: .*\S.*", API_StatusReason,
/// <https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_StatusReason.html>); trailwatch
/// keeps it to the 2,048 of a `ProductFields` value.
pub const STATUS_REASON_DESCRIPTION_MAX: usize = 2048;
/// `ProductFields`: "Can contain up to 50 key-value pairs. For each key-value pair, the key can
/// contain up to 128 characters, and the value can contain up to 2048 characters."
/// (API_AwsSecurityFinding)
pub const PRODUCT_FIELDS_MAX: usize = 50;
/// See [`PRODUCT_FIELDS_MAX`].
pub const PRODUCT_FIELD_KEY_MAX: usize = 128;
/// See [`PRODUCT_FIELDS_MAX`].
pub const PRODUCT_FIELD_VALUE_MAX: usize = 2048;
/// `Resources`: "Array Members: Minimum number of 1 item. Maximum number of 32 items."
/// (API_AwsSecurityFinding)
pub const RESOURCES_MAX: usize = 32;
/// `Types`: "Array Members: Maximum number of 50 items." (API_AwsSecurityFinding); trailwatch
/// applies the same to `FindingProviderFields.Types`, which holds the same values.
pub const TYPES_MAX: usize = 50;
/// `Compliance.RelatedRequirements`: "Array Members: Maximum number of 32 items." (API_Compliance,
/// <https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_Compliance.html>)
pub const RELATED_REQUIREMENTS_MAX: usize = 32;

/// The `ProductFields` pair that lists every change [`within_limits`] made to the finding.
pub const LIMITS_FIELD: &str = "trailwatch/LimitsApplied";
/// The `ProductFields` pair that holds, as `key=value` lines, the pairs beyond
/// [`PRODUCT_FIELDS_MAX`].
pub const MERGED_FIELD: &str = "trailwatch/MergedFields";

/// `finding` within every limit above; unchanged if it already is.
pub fn within_limits(mut finding: AsffFinding) -> AsffFinding {
    let mut changes = Vec::new();

    shorten_identifier("Id", &mut finding.id, ID_MAX, &mut changes);
    shorten_identifier(
        "GeneratorId",
        &mut finding.generator_id,
        GENERATOR_ID_MAX,
        &mut changes,
    );
    cut_field("Title", &mut finding.title, TITLE_MAX, &mut changes);
    cut_field(
        "Description",
        &mut finding.description,
        DESCRIPTION_MAX,
        &mut changes,
    );
    cut_field(
        "Remediation.Recommendation.Text",
        &mut finding.remediation.recommendation.text,
        RECOMMENDATION_TEXT_MAX,
        &mut changes,
    );
    for (position, reason) in finding.compliance.status_reasons.iter_mut().enumerate() {
        cut_field(
            &format!("Compliance.StatusReasons[{position}].Description"),
            &mut reason.description,
            STATUS_REASON_DESCRIPTION_MAX,
            &mut changes,
        );
    }
    if let Some(types) = &mut finding.types {
        keep_first("Types", types, TYPES_MAX, &mut changes);
    }
    keep_first(
        "FindingProviderFields.Types",
        &mut finding.finding_provider_fields.types,
        TYPES_MAX,
        &mut changes,
    );
    keep_first(
        "Compliance.RelatedRequirements",
        &mut finding.compliance.related_requirements,
        RELATED_REQUIREMENTS_MAX,
        &mut changes,
    );
    keep_first(
        "Resources",
        &mut finding.resources,
        RESOURCES_MAX,
        &mut changes,
    );
    finding.product_fields =
        product_fields_within_limits(std::mem::take(&mut finding.product_fields), changes);
    finding
}

/// The marker that ends a cut text.
fn cut_marker(left_out_characters: usize) -> String {
    format!("… [cut: {left_out_characters} more characters]")
}

/// `text` if it takes at most `max` bytes, else its longest prefix that fits, together with
/// [`cut_marker`], in `max` bytes, cut on a character boundary. `max` must leave room for the
/// marker (every limit above does).
pub fn cut_text(text: &str, max: usize) -> Option<String> {
    if text.len() <= max {
        return None;
    }
    // The marker is longest when it counts every character of `text`.
    let room = max.saturating_sub(cut_marker(text.chars().count()).len());
    let end = char_boundary_at_or_before(text, room);
    let left_out = text[end..].chars().count();
    Some(format!("{}{}", &text[..end], cut_marker(left_out)))
}

/// `identifier` if it takes at most `max` bytes, else a prefix of it followed by
/// `…[sha256:<hex of the SHA-256 of the whole identifier>]`, in `max` bytes. Deterministic, and
/// injective in practice: two identifiers that differ anywhere get different hashes.
pub fn shortened_identifier(identifier: &str, max: usize) -> Option<String> {
    if identifier.len() <= max {
        return None;
    }
    let mut suffix = String::from("…[sha256:");
    for byte in Sha256::digest(identifier.as_bytes()) {
        let _ = write!(suffix, "{byte:02x}");
    }
    suffix.push(']');
    let end = char_boundary_at_or_before(identifier, max.saturating_sub(suffix.len()));
    Some(format!("{}{suffix}", &identifier[..end]))
}

/// The largest character boundary of `text` at or before byte `at`.
fn char_boundary_at_or_before(text: &str, at: usize) -> usize {
    let mut end = at.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    end
}

fn cut_field(name: &str, text: &mut String, max: usize, changes: &mut Vec<String>) {
    if let Some(cut) = cut_text(text, max) {
        changes.push(format!(
            "{name} cut from {} to {} bytes",
            text.len(),
            cut.len()
        ));
        *text = cut;
    }
}

fn shorten_identifier(name: &str, identifier: &mut String, max: usize, changes: &mut Vec<String>) {
    if let Some(short) = shortened_identifier(identifier, max) {
        changes.push(format!(
            "{name} of {} bytes shortened to a prefix and its SHA-256",
            identifier.len()
        ));
        *identifier = short;
    }
}

fn keep_first<T>(name: &str, items: &mut Vec<T>, max: usize, changes: &mut Vec<String>) {
    if items.len() > max {
        changes.push(format!(
            "{name}: {} of {} left out (at most {max})",
            items.len() - max,
            items.len()
        ));
        items.truncate(max);
    }
}

/// The `ProductFields` within their limits, with [`LIMITS_FIELD`] listing `changes` (those made
/// to the rest of the finding, and those made here) when there are any.
fn product_fields_within_limits(
    fields: BTreeMap<String, String>,
    mut changes: Vec<String>,
) -> BTreeMap<String, String> {
    let mut kept: Vec<(String, String)> = Vec::with_capacity(fields.len());
    let mut earlier_changes = None;
    let mut earlier_merged = None;
    for (mut key, mut value) in fields {
        shorten_identifier(
            &format!("ProductFields key {key}"),
            &mut key,
            PRODUCT_FIELD_KEY_MAX,
            &mut changes,
        );
        cut_field(
            &format!("ProductFields {key}"),
            &mut value,
            PRODUCT_FIELD_VALUE_MAX,
            &mut changes,
        );
        match key.as_str() {
            LIMITS_FIELD => earlier_changes = Some(value),
            MERGED_FIELD => earlier_merged = Some(value),
            _ => kept.push((key, value)),
        }
    }
    // Room for the two pairs this function may write: the changes, and the merged pairs.
    let reserved = usize::from(earlier_merged.is_some())
        + usize::from(earlier_changes.is_some() || !changes.is_empty());
    if kept.len() + reserved > PRODUCT_FIELDS_MAX {
        kept.sort_by(|(a, _), (b, _)| importance(a).cmp(&importance(b)));
        let keep = PRODUCT_FIELDS_MAX - 2;
        let merged: Vec<String> = earlier_merged
            .take()
            .into_iter()
            .chain(
                kept.drain(keep..)
                    .map(|(key, value)| format!("{key}={value}")),
            )
            .collect();
        changes.push(format!(
            "ProductFields: {} pairs merged into {MERGED_FIELD} (at most {PRODUCT_FIELDS_MAX} pairs)",
            merged.len()
        ));
        let merged = merged.join("\n");
        earlier_merged = Some(cut_text(&merged, PRODUCT_FIELD_VALUE_MAX).unwrap_or(merged));
    }
    let mut fields: BTreeMap<String, String> = kept.into_iter().collect();
    if let Some(merged) = earlier_merged {
        fields.insert(MERGED_FIELD.to_string(), merged);
    }
    let all_changes: Vec<String> = earlier_changes.into_iter().chain(changes).collect();
    if !all_changes.is_empty() {
        let text = all_changes.join("; ");
        fields.insert(
            LIMITS_FIELD.to_string(),
            cut_text(&text, PRODUCT_FIELD_VALUE_MAX).unwrap_or(text),
        );
    }
    fields
}

/// Sort key of a `ProductFields` key, most important first: control, evidence, missing link and
/// counterexample; then any other key by name; then the chain links in chain order
/// (`trailwatch/Chain/<n>/<kind>`), so the end of the chain goes first when pairs must be merged.
fn importance(key: &str) -> (u8, usize, &str) {
    let first = [
        CONTROL_ID_FIELD,
        EVIDENCE_FIELD,
        MISSING_FIELD,
        MISSING_KIND_FIELD,
        COUNTEREXAMPLE_FIELD,
    ];
    if let Some(position) = first.iter().position(|name| *name == key) {
        return (0, position, key);
    }
    let chain_position = key
        .strip_prefix(PRODUCT_PREFIX)
        .and_then(|rest| rest.strip_prefix("/Chain/"))
        .and_then(|rest| rest.split('/').next())
        .and_then(|position| position.parse::<usize>().ok());
    match chain_position {
        Some(position) => (2, position, key),
        None => (1, 0, key),
    }
}

#[cfg(test)]
mod tests {
    //! Each limit of the API Reference's "AwsSecurityFinding" page
    //! (<https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_AwsSecurityFinding.html>,
    //! with "Recommendation" and "Compliance"), one by one, then on the evaluator's longest real
    //! findings.

    use super::*;
    use crate::controls::{control, evaluate, CisVersion};
    use crate::model::findings::{ComplianceStatus, Finding};
    use crate::model::snapshot::*;
    use crate::securityhub::asff::{self, AsffContext, AsffResource};
    use crate::securityhub::fixtures::{finding, T1};
    use time::macros::datetime;

    /// Asserts every limit of the module on `finding`, in bytes and so in characters.
    fn assert_within_limits(finding: &AsffFinding) {
        let texts: Vec<(&str, &str, usize)> = [
            ("Id", finding.id.as_str(), ID_MAX),
            ("GeneratorId", &finding.generator_id, GENERATOR_ID_MAX),
            ("Title", &finding.title, TITLE_MAX),
            ("Description", &finding.description, DESCRIPTION_MAX),
            (
                "Recommendation",
                &finding.remediation.recommendation.text,
                RECOMMENDATION_TEXT_MAX,
            ),
        ]
        .into_iter()
        .chain(finding.compliance.status_reasons.iter().map(|reason| {
            (
                "StatusReason",
                reason.description.as_str(),
                STATUS_REASON_DESCRIPTION_MAX,
            )
        }))
        .chain(finding.product_fields.iter().flat_map(|(key, value)| {
            [
                ("ProductFields key", key.as_str(), PRODUCT_FIELD_KEY_MAX),
                (
                    "ProductFields value",
                    value.as_str(),
                    PRODUCT_FIELD_VALUE_MAX,
                ),
            ]
        }))
        .collect();
        for (name, text, max) in texts {
            assert!(text.len() <= max, "{name}: {} bytes > {max}", text.len());
            assert!(text.chars().count() <= max, "{name}");
        }
        assert!(finding.product_fields.len() <= PRODUCT_FIELDS_MAX);
        assert!((1..=RESOURCES_MAX).contains(&finding.resources.len()));
        assert!(finding
            .types
            .as_ref()
            .is_none_or(|types| types.len() <= TYPES_MAX));
        assert!(finding.finding_provider_fields.types.len() <= TYPES_MAX);
        assert!(finding.compliance.related_requirements.len() <= RELATED_REQUIREMENTS_MAX);
        assert_eq!(within_limits(finding.clone()), *finding, "not idempotent");
    }

    /// `cut` is a prefix of `full` followed by the marker that counts exactly what was left out.
    fn assert_cut_from(cut: &str, full: &str) {
        let marker_at = cut.rfind("… [cut: ").expect("the cut marker");
        let kept = &cut[..marker_at];
        assert!(
            full.starts_with(kept),
            "{cut:?} is not a prefix of the text"
        );
        let left_out = full.chars().count() - kept.chars().count();
        assert_eq!(&cut[marker_at..], cut_marker(left_out));
    }

    type TextField = fn(&mut AsffFinding) -> &mut String;

    /// (field, its limit, where it is)
    const TEXT_LIMITS: &[(&str, usize, TextField)] = &[
        ("Title", TITLE_MAX, |f| &mut f.title),
        ("Description", DESCRIPTION_MAX, |f| &mut f.description),
        (
            "Remediation.Recommendation.Text",
            RECOMMENDATION_TEXT_MAX,
            |f| &mut f.remediation.recommendation.text,
        ),
        (
            "Compliance.StatusReasons[0].Description",
            STATUS_REASON_DESCRIPTION_MAX,
            |f| &mut f.compliance.status_reasons[0].description,
        ),
        (
            "ProductFields trailwatch/Evidence",
            PRODUCT_FIELD_VALUE_MAX,
            |f| {
                f.product_fields
                    .entry(asff::EVIDENCE_FIELD.to_string())
                    .or_default()
            },
        ),
    ];

    #[test]
    fn every_text_limit_cuts_with_a_marker_on_a_character_boundary() {
        for (name, max, field) in TEXT_LIMITS {
            // At the limit: untouched. One byte over, in ASCII or mid-way through a character, or
            // far over: cut to the limit with the marker.
            let at_limit = "a".repeat(*max);
            let mut within = finding("f", T1);
            *field(&mut within) = at_limit.clone();
            let within = within_limits(within);
            assert_eq!(*field(&mut within.clone()), at_limit, "{name}");
            assert!(!within.product_fields.contains_key(LIMITS_FIELD), "{name}");

            for over in [
                "a".repeat(max + 1),
                format!("{}é", "a".repeat(max - 1)),
                "→".repeat(*max),
                "é".repeat(3 * max),
            ] {
                let mut long = finding("f", T1);
                *field(&mut long) = over.clone();
                let mut cut = within_limits(long);
                assert_within_limits(&cut);
                let text = field(&mut cut).clone();
                assert!(text.len() <= *max, "{name}: {} bytes", text.len());
                assert_cut_from(&text, &over);
                let changes = &cut.product_fields[LIMITS_FIELD];
                assert!(
                    changes.contains(&format!("{name} cut from {} to", over.len())),
                    "{name}: {changes}"
                );
            }
        }
    }

    #[test]
    fn long_identifiers_keep_a_prefix_and_a_hash_of_the_whole() {
        let long_id = format!(
            "trailwatch/aws/111122223333/cloudtrail-changes/{}",
            "r".repeat(600)
        );
        let mut long = finding("f", T1);
        long.id = long_id.clone();
        long.generator_id = format!("trailwatch/{}", "g".repeat(600));
        let key = format!("trailwatch/{}", "k".repeat(200));
        long.product_fields.insert(key.clone(), "value".to_string());
        let short = within_limits(long.clone());
        assert_within_limits(&short);
        assert!(short.id.len() <= ID_MAX && short.generator_id.len() <= GENERATOR_ID_MAX);
        assert!(short.id.starts_with(&long_id[..400]));
        let digest: String = Sha256::digest(long_id.as_bytes())
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect();
        assert!(
            short.id.ends_with(&format!("…[sha256:{digest}]")),
            "{}",
            short.id
        );
        // A rerun gives the same Id; an Id that differs only past the prefix gets another.
        assert_eq!(within_limits(long.clone()).id, short.id);
        let mut other = long.clone();
        other.id.push('s');
        assert_ne!(within_limits(other).id, short.id);
        // The long key is shortened too, its value kept.
        assert!(!short.product_fields.contains_key(&key));
        let shortened_key = shortened_identifier(&key, PRODUCT_FIELD_KEY_MAX).unwrap();
        assert_eq!(short.product_fields[&shortened_key], "value");
        let changes = &short.product_fields[LIMITS_FIELD];
        for name in ["Id of", "GeneratorId of", "ProductFields key"] {
            assert!(changes.contains(name), "{changes}");
        }
    }

    #[test]
    fn long_lists_keep_their_first_items() {
        let mut long = finding("f", T1);
        let resource = |n: usize| AsffResource {
            resource_type: "Other".to_string(),
            id: format!("resource-{n}"),
            partition: "aws".to_string(),
            region: "eu-west-1".to_string(),
        };
        long.resources = (0..40).map(resource).collect();
        let types: Vec<String> = (0..60).map(|n| format!("Type {n}")).collect();
        long.types = Some(types.clone());
        long.finding_provider_fields.types = types.clone();
        long.compliance.related_requirements = (0..40).map(|n| format!("CIS/{n}")).collect();
        let cut = within_limits(long.clone());
        assert_within_limits(&cut);
        assert_eq!(cut.resources[..], long.resources[..RESOURCES_MAX]);
        assert_eq!(cut.types.as_ref().unwrap()[..], types[..TYPES_MAX]);
        assert_eq!(cut.finding_provider_fields.types[..], types[..TYPES_MAX]);
        assert_eq!(
            cut.compliance.related_requirements[..],
            long.compliance.related_requirements[..RELATED_REQUIREMENTS_MAX]
        );
        let changes = &cut.product_fields[LIMITS_FIELD];
        for expected in [
            "Resources: 8 of 40 left out (at most 32)",
            "Types: 10 of 60 left out (at most 50)",
            "FindingProviderFields.Types: 10 of 60 left out",
            "Compliance.RelatedRequirements: 8 of 40 left out (at most 32)",
        ] {
            assert!(changes.contains(expected), "{expected}: {changes}");
        }
    }

    #[test]
    fn beyond_50_product_fields_the_end_of_the_chain_is_merged() {
        let mut long = finding("f", T1);
        long.product_fields
            .insert(asff::EVIDENCE_FIELD.to_string(), "evidence".to_string());
        long.product_fields
            .insert(asff::MISSING_FIELD.to_string(), "missing".to_string());
        // 60 chain links: with ControlId, Evidence and Missing, 63 pairs.
        for position in 0..60 {
            long.product_fields.insert(
                format!("trailwatch/Chain/{position}/alarm"),
                format!("alarm-{position}"),
            );
        }
        let cut = within_limits(long);
        assert_within_limits(&cut);
        assert_eq!(cut.product_fields.len(), PRODUCT_FIELDS_MAX);
        for kept in [
            asff::CONTROL_ID_FIELD,
            asff::EVIDENCE_FIELD,
            asff::MISSING_FIELD,
        ] {
            assert!(cut.product_fields.contains_key(kept), "{kept}");
        }
        // 48 pairs kept: the 3 above and chain links 0 to 44 (in chain order, not key order:
        // link 9 stays although "9" sorts after "10"); links 45 to 59 merged, in order.
        assert!(cut.product_fields.contains_key("trailwatch/Chain/9/alarm"));
        assert!(cut.product_fields.contains_key("trailwatch/Chain/44/alarm"));
        assert!(!cut.product_fields.contains_key("trailwatch/Chain/45/alarm"));
        let merged: Vec<&str> = cut.product_fields[MERGED_FIELD].lines().collect();
        assert_eq!(merged.len(), 15);
        assert_eq!(merged[0], "trailwatch/Chain/45/alarm=alarm-45");
        assert_eq!(merged[14], "trailwatch/Chain/59/alarm=alarm-59");
        assert!(cut.product_fields[LIMITS_FIELD]
            .contains("ProductFields: 15 pairs merged into trailwatch/MergedFields"));
    }

    #[test]
    fn a_finding_within_the_limits_is_unchanged() {
        let within = finding("f", T1);
        assert_eq!(within_limits(within.clone()), within);
    }

    const ACCOUNT: &str = "111122223333";
    /// The name the CloudTrail console gives a trail's new log group.
    const LOG_GROUP: &str = "aws-cloudtrail-logs-111122223333-3f2a9c1e";
    const LOG_GROUP_ARN: &str =
        "arn:aws:logs:us-east-1:111122223333:log-group:aws-cloudtrail-logs-111122223333-3f2a9c1e:*";

    /// One multi-Region, logging trail with `selectors`, delivering to a log group with one
    /// metric filter of `pattern`; no alarm.
    fn account_with(pattern: &str, selectors: EventSelectors) -> Snapshot {
        Snapshot {
            format: SNAPSHOT_FORMAT,
            account_id: ACCOUNT.to_string(),
            partition: "aws".to_string(),
            collected_at: datetime!(2026-11-23 12:00 UTC),
            regions: vec!["us-east-1".to_string()],
            region_source: RegionSource::Configured,
            chains: ChainGraph {
                trails: vec![Trail {
                    arn: format!("arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/main"),
                    name: "main".to_string(),
                    home_region: "us-east-1".to_string(),
                    is_multi_region: true,
                    is_organization_trail: false,
                    log_group_arn: Some(LOG_GROUP_ARN.to_string()),
                    status: Ok(TrailStatus {
                        is_logging: true,
                        latest_cloudwatch_logs_delivery_time: Some(datetime!(2026-11-23 11:00 UTC)),
                        latest_cloudwatch_logs_delivery_error: None,
                    }),
                    event_selectors: Ok(selectors),
                }],
                log_groups: vec![LogGroup {
                    arn: LOG_GROUP_ARN.to_string(),
                    name: LOG_GROUP.to_string(),
                    region: "us-east-1".to_string(),
                    account_id: ACCOUNT.to_string(),
                    metric_filters: Ok(vec![MetricFilter {
                        name: "cloudtrail-configuration-changes".to_string(),
                        pattern: pattern.to_string(),
                        metric_transformations: vec![MetricTransformation {
                            metric_name: "CloudTrailChanges".to_string(),
                            metric_namespace: "CISBenchmark".to_string(),
                            metric_value: "1".to_string(),
                            default_value: None,
                            unit: None,
                            dimensions: Default::default(),
                        }],
                    }]),
                }],
                alarm_sets: vec![],
                topics: vec![],
            },
            read_errors: vec![],
            api_calls: 3,
            api_calls_by_operation: Default::default(),
            securityhub: None,
        }
    }

    fn all_management_events() -> EventSelectors {
        EventSelectors {
            classic: vec![ClassicEventSelector {
                read_write_type: "All".to_string(),
                include_management_events: true,
                exclude_management_event_sources: vec![],
            }],
            advanced: vec![],
        }
    }

    /// The evaluator's one finding for `control_id`, and its ASFF.
    fn evaluated(snapshot: &Snapshot, control_id: &str) -> (Finding, AsffFinding) {
        let findings = evaluate(
            snapshot,
            &[control(control_id).unwrap()],
            CisVersion::newest(),
        );
        let context = AsffContext {
            region: "us-east-1".to_string(),
            observed_at: "2026-11-23T12:00:00Z".to_string(),
            cis_version: CisVersion::newest(),
            first_steps: Default::default(),
        };
        let asff = asff::from_findings(&findings, &context).unwrap();
        assert_eq!(findings.len(), 1);
        (findings[0].clone(), asff[0].clone())
    }

    /// A 1,000-character pattern (CloudWatch takes 1,024) that misses CIS 4.5's events whenever
    /// two request fields carry long values: its counterexample carries them, and the sentence
    /// names them.
    #[test]
    fn a_1000_character_pattern_that_misses_stays_within_the_limits() {
        let names = "($.eventName=CreateTrail)||($.eventName=UpdateTrail)||\
                     ($.eventName=DeleteTrail)||($.eventName=StartLogging)||\
                     ($.eventName=StopLogging)";
        let frame = format!("{{({names})&&(($.userAgent!=\"\")||($.sourceIPAddress!=\"\"))}}");
        let value_length = (1000 - frame.len()) / 2;
        let pattern = format!(
            "{{({names})&&(($.userAgent!=\"{}\")||($.sourceIPAddress!=\"{}\"))}}",
            "a".repeat(value_length),
            "b".repeat(1000 - frame.len() - value_length),
        );
        assert_eq!(pattern.len(), 1000);
        let (finding, asff) = evaluated(
            &account_with(&pattern, all_management_events()),
            "cloudtrail-changes",
        );
        assert_eq!(finding.status, ComplianceStatus::Failed);
        let counterexample = finding.evidence.counterexample().expect("a counterexample");
        assert_eq!(counterexample["userAgent"], "a".repeat(value_length));

        assert_within_limits(&asff);
        let full_description = format!("FAILED: {}", finding.summary);
        assert!(
            full_description.len() > DESCRIPTION_MAX,
            "the case must need a cut: {full_description}"
        );
        assert_cut_from(&asff.description, &full_description);
        assert!(asff.product_fields[LIMITS_FIELD].contains("Description cut from"));
        // What fits stays whole: the counterexample is still the event, as JSON.
        let event: serde_json::Value =
            serde_json::from_str(&asff.product_fields[asff::COUNTEREXAMPLE_FIELD]).unwrap();
        assert_eq!(&event, counterexample);
        assert_eq!(
            asff.product_fields[asff::MISSING_FIELD],
            finding.evidence.missing.as_ref().unwrap().to_string()
        );
    }

    /// A trail with 40 advanced selectors, each recording only the write events of one service:
    /// the root-usage control (every service) names each selector and each unrecorded kind of
    /// event, a sentence of several thousand characters.
    #[test]
    fn a_trail_with_many_advanced_selectors_stays_within_the_limits() {
        let advanced = (0..40)
            .map(|n| AdvancedEventSelector {
                name: Some(format!("write events of service {n}")),
                field_selectors: vec![
                    AdvancedFieldSelector {
                        field: "eventCategory".to_string(),
                        equals: vec!["Management".to_string()],
                        ..Default::default()
                    },
                    AdvancedFieldSelector {
                        field: "eventSource".to_string(),
                        equals: vec![format!("service{n:02}.amazonaws.com")],
                        ..Default::default()
                    },
                    AdvancedFieldSelector {
                        field: "readOnly".to_string(),
                        equals: vec!["false".to_string()],
                        ..Default::default()
                    },
                ],
            })
            .collect();
        let selectors = EventSelectors {
            classic: vec![],
            advanced,
        };
        let pattern = control("root-usage").unwrap().required_pattern().unwrap();
        let (finding, asff) = evaluated(&account_with(pattern, selectors), "root-usage");
        assert_eq!(finding.status, ComplianceStatus::Failed);
        let missing = finding.evidence.missing.as_ref().unwrap().to_string();
        assert!(
            missing.len() > PRODUCT_FIELD_VALUE_MAX,
            "{} bytes",
            missing.len()
        );
        assert!(missing.contains("service39.amazonaws.com"));

        assert_within_limits(&asff);
        assert_cut_from(&asff.description, &format!("FAILED: {}", finding.summary));
        assert_cut_from(&asff.product_fields[asff::EVIDENCE_FIELD], &finding.summary);
        assert_cut_from(&asff.product_fields[asff::MISSING_FIELD], &missing);
        assert_cut_from(
            &asff.compliance.status_reasons[0].description,
            &finding.summary,
        );
        let changes = &asff.product_fields[LIMITS_FIELD];
        for field in [
            "Description",
            "Compliance.StatusReasons[0].Description",
            "ProductFields trailwatch/Evidence",
            "ProductFields trailwatch/Missing",
        ] {
            assert!(
                changes.contains(&format!("{field} cut from")),
                "{field}: {changes}"
            );
        }
    }
}
