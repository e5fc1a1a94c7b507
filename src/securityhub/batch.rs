//! Cutting findings into `BatchImportFindings` requests (pure): at most 100 findings and 6 MB a
//! request, at most 240 KB a finding.

use super::asff::AsffFinding;
use super::{FailedFinding, ARCHIVED};

/// Most findings one `BatchImportFindings` call takes.
pub const MAX_BATCH_FINDINGS: usize = 100;
/// Most bytes of JSON one `BatchImportFindings` request may carry (6 MB, counted as 6,000,000
/// bytes to stay on the safe side of either reading of "MB").
pub const MAX_BATCH_BYTES: usize = 6_000_000;
/// Most bytes of JSON one finding may take (240 KB).
pub const MAX_FINDING_BYTES: usize = 240 * 1024;
/// Error code reported for a finding too large to send.
pub const FINDING_TOO_LARGE: &str = "FindingTooLarge";
/// The JSON around a batch's findings: `{"Findings":[` and `]}`.
const ENVELOPE_BYTES: usize = r#"{"Findings":[]}"#.len();

/// Cuts findings into batches of at most [`MAX_BATCH_FINDINGS`] findings and [`MAX_BATCH_BYTES`]
/// of JSON, keeping their order. Pure. Findings over [`MAX_FINDING_BYTES`] (or that cannot be
/// serialized) are returned as failures instead.
pub fn batches(findings: Vec<AsffFinding>) -> (Vec<Vec<AsffFinding>>, Vec<FailedFinding>) {
    let mut batches: Vec<Vec<AsffFinding>> = Vec::new();
    let mut failed = Vec::new();
    let mut current: Vec<AsffFinding> = Vec::new();
    let mut current_bytes = ENVELOPE_BYTES;
    for finding in findings {
        let size = match serde_json::to_vec(&finding) {
            Ok(json) => json.len(),
            Err(error) => {
                failed.push(never_sent(
                    &finding,
                    "SerializationError",
                    error.to_string(),
                ));
                continue;
            }
        };
        if size > MAX_FINDING_BYTES {
            let message = format!("the finding takes {size} bytes of JSON; Security Hub takes at most {MAX_FINDING_BYTES}");
            failed.push(never_sent(&finding, FINDING_TOO_LARGE, message));
            continue;
        }
        // A comma separates the finding from the one before it.
        let added = size + usize::from(!current.is_empty());
        if !current.is_empty()
            && (current.len() == MAX_BATCH_FINDINGS || current_bytes + added > MAX_BATCH_BYTES)
        {
            batches.push(std::mem::take(&mut current));
            current_bytes = ENVELOPE_BYTES;
        }
        current_bytes += size + usize::from(!current.is_empty());
        current.push(finding);
    }
    if !current.is_empty() {
        batches.push(current);
    }
    (batches, failed)
}

fn never_sent(finding: &AsffFinding, code: &str, message: String) -> FailedFinding {
    FailedFinding {
        id: finding.id.clone(),
        code: code.to_string(),
        message,
        attempts: 0,
        archiving: finding.record_state == ARCHIVED,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::securityhub::fixtures::{finding, json_len, T1};

    #[test]
    fn batches_hold_at_most_100_findings_in_order() {
        let findings: Vec<_> = (0..250).map(|n| finding(&format!("f{n}"), T1)).collect();
        let ids: Vec<_> = findings.iter().map(|f| f.id.clone()).collect();
        let (batches, failed) = batches(findings);
        assert!(failed.is_empty());
        assert_eq!(
            batches.iter().map(Vec::len).collect::<Vec<_>>(),
            vec![100, 100, 50]
        );
        let flat: Vec<_> = batches.iter().flatten().map(|f| f.id.clone()).collect();
        assert_eq!(flat, ids);
    }

    #[test]
    fn batches_stay_under_six_megabytes() {
        // Findings of ~200 KB each: 29 fit in 6,000,000 bytes, 30 do not.
        let big = |n: usize| {
            let mut f = finding(&format!("big{n}"), T1);
            f.product_fields
                .insert("trailwatch/Padding".to_string(), "x".repeat(200_000));
            f
        };
        let findings: Vec<_> = (0..70).map(big).collect();
        let size = json_len(&findings[0]);
        let per_batch = (MAX_BATCH_BYTES - ENVELOPE_BYTES + 1) / (size + 1);
        let (batches, failed) = batches(findings);
        assert!(failed.is_empty());
        assert!(per_batch < MAX_BATCH_FINDINGS);
        assert_eq!(batches[0].len(), per_batch);
        for batch in &batches {
            let request = serde_json::json!({ "Findings": batch });
            assert!(serde_json::to_vec(&request).unwrap().len() <= MAX_BATCH_BYTES);
        }
        assert_eq!(batches.iter().map(Vec::len).sum::<usize>(), 70);
    }

    #[test]
    fn an_oversized_finding_is_reported_not_sent() {
        let mut huge = finding("huge", T1);
        huge.description = "x".repeat(MAX_FINDING_BYTES);
        let (batches, failed) = batches(vec![finding("a", T1), huge, finding("b", T1)]);
        assert_eq!(batches.len(), 1);
        assert_eq!(batches[0].len(), 2);
        assert_eq!(failed.len(), 1);
        assert_eq!(failed[0].code, FINDING_TOO_LARGE);
        assert_eq!(failed[0].attempts, 0);
        assert!(failed[0].id.ends_with("/huge"));
    }

    #[test]
    fn no_findings_no_batches() {
        let (batches, failed) = batches(Vec::new());
        assert!(batches.is_empty() && failed.is_empty());
    }
}
