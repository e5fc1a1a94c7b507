//! Does a trail record the management events a control watches? Classic and advanced selectors.
//!
//! CIS asks for a trail that records all management events, read and write (ReadWriteType All).
//! We decide it semantically, per control: for every event source the control watches and for both
//! `readOnly` values, some selector must record the management event. Two classic selectors
//! `ReadOnly` + `WriteOnly` are therefore as good as one `All`; excluding `kms.amazonaws.com` from
//! management events breaks the KMS control but not the CloudTrail one. Advanced selectors are
//! evaluated as AWS does: field selectors within a selector are ANDed, selectors are ORed, and a
//! condition on any field other than `eventCategory`, `readOnly` and `eventSource` narrows what
//! is recorded in ways we cannot see, so such a selector is not taken as recording everything.

use crate::model::missing::{MissedEvents, SelectorGap};
use crate::model::snapshot::{AdvancedEventSelector, AdvancedFieldSelector, EventSelectors};

/// The properties of a management event that selectors can distinguish.
struct ManagementEvent<'a> {
    event_source: &'a str,
    read_only: bool,
}

/// `Ok` when every management event (read and write) of every `event_sources` is recorded;
/// otherwise what is not.
pub fn records_management_events(
    selectors: &EventSelectors,
    event_sources: &[&str],
) -> Result<(), SelectorGap> {
    if selectors.classic.is_empty() && selectors.advanced.is_empty() {
        return Err(SelectorGap::NoSelectors);
    }
    let probes = probe_sources(selectors, event_sources);
    let mut missed: Vec<MissedEvents> = Vec::new();
    for event_source in &probes {
        for read_only in [false, true] {
            let event = ManagementEvent {
                event_source,
                read_only,
            };
            let recorded = if selectors.advanced.is_empty() {
                selectors
                    .classic
                    .iter()
                    .any(|selector| classic_records(selector, &event))
            } else {
                selectors
                    .advanced
                    .iter()
                    .any(|selector| advanced_records(selector, &event))
            };
            if !recorded {
                missed.push(MissedEvents {
                    read_only,
                    event_source: event_source.to_string(),
                });
            }
        }
    }
    if missed.is_empty() {
        Ok(())
    } else {
        Err(SelectorGap::NotRecorded {
            missed,
            advanced: !selectors.advanced.is_empty(),
            selectors: describe(selectors),
        })
    }
}

/// The event sources to check. A control about every service (`event_sources` empty) must see
/// every source: then the probes are each source the selectors name (any exclusion or condition
/// on one breaks "every") and one no selector names.
fn probe_sources<'a>(selectors: &'a EventSelectors, event_sources: &[&'a str]) -> Vec<&'a str> {
    if !event_sources.is_empty() {
        return event_sources.to_vec();
    }
    let mut probes: Vec<&str> = vec![ANY_OTHER_SOURCE];
    let named = selectors
        .classic
        .iter()
        .flat_map(|selector| &selector.exclude_management_event_sources)
        .chain(
            selectors
                .advanced
                .iter()
                .flat_map(|selector| &selector.field_selectors)
                .filter(|field| field.field == "eventSource")
                .flat_map(|field| {
                    field
                        .equals
                        .iter()
                        .chain(&field.starts_with)
                        .chain(&field.ends_with)
                        .chain(&field.not_equals)
                        .chain(&field.not_starts_with)
                        .chain(&field.not_ends_with)
                }),
        );
    for source in named {
        if !probes.contains(&source.as_str()) {
            probes.push(source);
        }
    }
    probes
}

/// Stands for every service no selector names.
const ANY_OTHER_SOURCE: &str = "any other service";

fn classic_records(
    selector: &crate::model::snapshot::ClassicEventSelector,
    event: &ManagementEvent,
) -> bool {
    let read_write_ok = match selector.read_write_type.as_str() {
        "All" => true,
        "ReadOnly" => event.read_only,
        "WriteOnly" => !event.read_only,
        _ => false,
    };
    selector.include_management_events
        && read_write_ok
        && !selector
            .exclude_management_event_sources
            .iter()
            .any(|excluded| excluded == event.event_source)
}

fn advanced_records(selector: &AdvancedEventSelector, event: &ManagementEvent) -> bool {
    let mut category_is_management = false;
    for field_selector in &selector.field_selectors {
        let value = match field_selector.field.as_str() {
            "eventCategory" => {
                category_is_management = true;
                "Management"
            }
            "readOnly" => {
                if event.read_only {
                    "true"
                } else {
                    "false"
                }
            }
            "eventSource" => event.event_source,
            _ => return false,
        };
        if !field_matches(field_selector, value) {
            return false;
        }
    }
    // Without an eventCategory condition the selector is not a management-event selector (AWS
    // requires one in every advanced selector).
    category_is_management
}

/// AWS semantics of one field selector: its operators are ANDed; values within one are ORed for
/// the positive operators and must all fail for the negative ones.
fn field_matches(selector: &AdvancedFieldSelector, value: &str) -> bool {
    (selector.equals.is_empty() || selector.equals.iter().any(|v| v == value))
        && (selector.starts_with.is_empty()
            || selector
                .starts_with
                .iter()
                .any(|p| value.starts_with(p.as_str())))
        && (selector.ends_with.is_empty()
            || selector
                .ends_with
                .iter()
                .any(|s| value.ends_with(s.as_str())))
        && !selector.not_equals.iter().any(|v| v == value)
        && !selector
            .not_starts_with
            .iter()
            .any(|p| value.starts_with(p.as_str()))
        && !selector
            .not_ends_with
            .iter()
            .any(|s| value.ends_with(s.as_str()))
}

/// A short rendering of the selectors for evidence sentences.
fn describe(selectors: &EventSelectors) -> String {
    if selectors.advanced.is_empty() {
        selectors
            .classic
            .iter()
            .map(|selector| {
                let mut text = format!(
                    "ReadWriteType {}, IncludeManagementEvents {}",
                    selector.read_write_type, selector.include_management_events
                );
                if !selector.exclude_management_event_sources.is_empty() {
                    text.push_str(&format!(
                        ", ExcludeManagementEventSources [{}]",
                        selector.exclude_management_event_sources.join(", ")
                    ));
                }
                text
            })
            .collect::<Vec<_>>()
            .join("; ")
    } else {
        selectors
            .advanced
            .iter()
            .map(|selector| {
                selector
                    .field_selectors
                    .iter()
                    .map(describe_field)
                    .collect::<Vec<_>>()
                    .join(" and ")
            })
            .collect::<Vec<_>>()
            .join("; ")
    }
}

fn describe_field(selector: &AdvancedFieldSelector) -> String {
    let operators = [
        ("Equals", &selector.equals),
        ("StartsWith", &selector.starts_with),
        ("EndsWith", &selector.ends_with),
        ("NotEquals", &selector.not_equals),
        ("NotStartsWith", &selector.not_starts_with),
        ("NotEndsWith", &selector.not_ends_with),
    ];
    operators
        .iter()
        .filter(|(_, values)| !values.is_empty())
        .map(|(operator, values)| format!("{} {operator} [{}]", selector.field, values.join(", ")))
        .collect::<Vec<_>>()
        .join(" and ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::snapshot::ClassicEventSelector;

    fn classic(read_write_type: &str, include: bool, exclude: &[&str]) -> ClassicEventSelector {
        ClassicEventSelector {
            read_write_type: read_write_type.to_string(),
            include_management_events: include,
            exclude_management_event_sources: exclude.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn field(name: &str, build: impl FnOnce(&mut AdvancedFieldSelector)) -> AdvancedFieldSelector {
        let mut selector = AdvancedFieldSelector {
            field: name.to_string(),
            ..Default::default()
        };
        build(&mut selector);
        selector
    }

    fn strings(values: &[&str]) -> Vec<String> {
        values.iter().map(|s| s.to_string()).collect()
    }

    fn management(extra: Vec<AdvancedFieldSelector>) -> AdvancedEventSelector {
        let mut field_selectors = vec![field("eventCategory", |f| {
            f.equals = strings(&["Management"])
        })];
        field_selectors.extend(extra);
        AdvancedEventSelector {
            name: None,
            field_selectors,
        }
    }

    const CLOUDTRAIL: &[&str] = &["cloudtrail.amazonaws.com"];
    const KMS: &[&str] = &["kms.amazonaws.com"];

    #[test]
    fn classic_selectors() {
        // (selectors, event sources, records everything?)
        let table: Vec<(Vec<ClassicEventSelector>, &[&str], bool)> = vec![
            (vec![classic("All", true, &[])], CLOUDTRAIL, true),
            (vec![classic("WriteOnly", true, &[])], CLOUDTRAIL, false),
            (vec![classic("ReadOnly", true, &[])], CLOUDTRAIL, false),
            (
                vec![
                    classic("ReadOnly", true, &[]),
                    classic("WriteOnly", true, &[]),
                ],
                CLOUDTRAIL,
                true,
            ),
            (vec![classic("All", false, &[])], CLOUDTRAIL, false),
            (
                vec![classic("All", true, &["kms.amazonaws.com"])],
                KMS,
                false,
            ),
            (
                vec![classic("All", true, &["kms.amazonaws.com"])],
                CLOUDTRAIL,
                true,
            ),
            (
                vec![classic("All", true, &["rdsdata.amazonaws.com"])],
                KMS,
                true,
            ),
            (vec![], CLOUDTRAIL, false),
        ];
        for (classic, sources, expected) in table {
            let selectors = EventSelectors {
                classic: classic.clone(),
                advanced: vec![],
            };
            assert_eq!(
                records_management_events(&selectors, sources).is_ok(),
                expected,
                "{classic:?} for {sources:?}"
            );
        }
    }

    #[test]
    fn advanced_selectors() {
        let table: Vec<(Vec<AdvancedEventSelector>, &[&str], bool)> = vec![
            (vec![management(vec![])], CLOUDTRAIL, true),
            (
                vec![management(vec![field("readOnly", |f| {
                    f.equals = strings(&["false"])
                })])],
                CLOUDTRAIL,
                false,
            ),
            (
                vec![
                    management(vec![field("readOnly", |f| f.equals = strings(&["false"]))]),
                    management(vec![field("readOnly", |f| f.equals = strings(&["true"]))]),
                ],
                CLOUDTRAIL,
                true,
            ),
            (
                vec![management(vec![field("eventSource", |f| {
                    f.not_equals = strings(&["kms.amazonaws.com"])
                })])],
                KMS,
                false,
            ),
            (
                vec![management(vec![field("eventSource", |f| {
                    f.not_equals = strings(&["kms.amazonaws.com"])
                })])],
                CLOUDTRAIL,
                true,
            ),
            // Data events only.
            (
                vec![AdvancedEventSelector {
                    name: Some("s3".into()),
                    field_selectors: vec![
                        field("eventCategory", |f| f.equals = strings(&["Data"])),
                        field("resources.type", |f| {
                            f.equals = strings(&["AWS::S3::Object"])
                        }),
                    ],
                }],
                CLOUDTRAIL,
                false,
            ),
            // A data-event selector beside a management one does not hurt.
            (
                vec![
                    AdvancedEventSelector {
                        name: Some("s3".into()),
                        field_selectors: vec![
                            field("eventCategory", |f| f.equals = strings(&["Data"])),
                            field("resources.type", |f| {
                                f.equals = strings(&["AWS::S3::Object"])
                            }),
                        ],
                    },
                    management(vec![]),
                ],
                CLOUDTRAIL,
                true,
            ),
            // A narrowing condition on a field we cannot see.
            (
                vec![management(vec![field("eventName", |f| {
                    f.equals = strings(&["CreateTrail"])
                })])],
                CLOUDTRAIL,
                false,
            ),
            (
                vec![management(vec![field("eventSource", |f| {
                    f.starts_with = strings(&["cloudtrail."])
                })])],
                CLOUDTRAIL,
                true,
            ),
        ];
        for (advanced, sources, expected) in table {
            let selectors = EventSelectors {
                classic: vec![],
                advanced: advanced.clone(),
            };
            assert_eq!(
                records_management_events(&selectors, sources).is_ok(),
                expected,
                "{advanced:?} for {sources:?}"
            );
        }
    }

    #[test]
    fn controls_about_every_service_need_every_source() {
        const EVERY: &[&str] = &[];
        let everything = EventSelectors {
            classic: vec![classic("All", true, &[])],
            advanced: vec![],
        };
        assert!(records_management_events(&everything, EVERY).is_ok());
        let without_kms = EventSelectors {
            classic: vec![classic("All", true, &["kms.amazonaws.com"])],
            advanced: vec![],
        };
        assert!(records_management_events(&without_kms, EVERY)
            .unwrap_err()
            .to_string()
            .contains("of kms.amazonaws.com"));
        let only_iam = EventSelectors {
            classic: vec![],
            advanced: vec![management(vec![field("eventSource", |f| {
                f.equals = strings(&["iam.amazonaws.com"])
            })])],
        };
        assert!(records_management_events(&only_iam, EVERY).is_err());
        let all_but_rds = EventSelectors {
            classic: vec![],
            advanced: vec![management(vec![field("eventSource", |f| {
                f.not_starts_with = strings(&["rdsdata"])
            })])],
        };
        assert!(records_management_events(&all_but_rds, EVERY).is_err());
    }

    #[test]
    fn reason_names_what_is_missing() {
        let selectors = EventSelectors {
            classic: vec![classic("WriteOnly", true, &[])],
            advanced: vec![],
        };
        let gap = records_management_events(&selectors, CLOUDTRAIL).unwrap_err();
        assert_eq!(
            gap,
            SelectorGap::NotRecorded {
                missed: vec![MissedEvents {
                    read_only: true,
                    event_source: "cloudtrail.amazonaws.com".to_string()
                }],
                advanced: false,
                selectors: "ReadWriteType WriteOnly, IncludeManagementEvents true".to_string(),
            }
        );
        assert_eq!(
            gap.to_string(),
            "does not record read management events of cloudtrail.amazonaws.com \
             (classic selectors: ReadWriteType WriteOnly, IncludeManagementEvents true)"
        );
    }
}
