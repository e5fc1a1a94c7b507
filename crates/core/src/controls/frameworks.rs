//! The compliance frameworks a control's findings serve besides CIS, as data.
//!
//! One mapping file per framework, `frameworks/<id>.json`: per trailwatch control, the
//! framework's requirements it serves and the page that says so (the "Related requirements" of
//! the matching AWS Security Hub control). The files are compiled in and parsed once. Requirement
//! names are spelled as Security Hub spells them (`NIST.800-53.r5 AU-6(1)`), so they go into
//! `Compliance.RelatedRequirements`, the OCSF compliance object, the CSV and the page as they are.
//! Where each mapping comes from, and what is left out for want of a source:
//! `frameworks/README.md`.

use super::benchmark::CisVersion;
use super::catalog::Control;
use serde::Deserialize;
use std::sync::OnceLock;

/// The mapping files, in the order their requirements are listed.
const FILES: &[&str] = &[
    include_str!("frameworks/nist-800-53-r5.json"),
    include_str!("frameworks/nist-800-171-r2.json"),
    include_str!("frameworks/pci-dss-v3.2.1.json"),
];

/// One framework's mapping file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Framework {
    /// `nist-800-53-r5`: what `trailwatch controls --framework` takes.
    pub id: String,
    /// `NIST SP 800-53 Revision 5`.
    pub title: String,
    /// What a requirement id is prefixed with to name it as Security Hub does: `NIST.800-53.r5 `.
    pub requirement_prefix: String,
    pub mappings: Vec<Mapping>,
}

/// The requirements of one framework one control serves, and where that is said.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    /// The trailwatch control id.
    pub control: String,
    /// The Security Hub control whose reference page is the source (the control's own).
    pub security_hub: String,
    /// Requirement ids within the framework: `AU-6(1)`, `3.14.6`, `10.5.3`.
    pub requirements: Vec<String>,
    /// The page (URL) that names these requirements for this control.
    pub source: String,
}

/// Every known framework, parsed on first use.
pub fn frameworks() -> &'static [Framework] {
    static PARSED: OnceLock<Vec<Framework>> = OnceLock::new();
    PARSED.get_or_init(|| {
        FILES
            .iter()
            .map(|text| {
                serde_json::from_str(text).unwrap_or_else(|error| {
                    panic!("a frameworks/*.json mapping file is invalid: {error}")
                })
            })
            .collect()
    })
}

/// The known framework ids, comma-separated.
pub fn known_frameworks() -> String {
    frameworks()
        .iter()
        .map(|framework| framework.id.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A framework name that names no known framework.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown framework {given:?}; known: {known}")]
pub struct UnknownFramework {
    pub given: String,
    pub known: String,
}

impl Framework {
    /// The framework with this id (case and surrounding space ignored).
    pub fn parse(text: &str) -> Result<&'static Framework, UnknownFramework> {
        let given = text.trim();
        frameworks()
            .iter()
            .find(|framework| framework.id.eq_ignore_ascii_case(given))
            .ok_or_else(|| UnknownFramework {
                given: given.to_string(),
                known: known_frameworks(),
            })
    }

    /// A requirement id as Security Hub names it: `NIST.800-53.r5 AU-6(1)`.
    pub fn name(&self, requirement: &str) -> String {
        format!("{}{requirement}", self.requirement_prefix)
    }

    /// Every requirement of this framework some control serves, in natural order (`AU-2` before
    /// `AU-10`, `3.3.8` before `3.13.1`), with the ids of the controls that serve it, in the
    /// file's order.
    pub fn requirements(&self) -> Vec<(String, Vec<&str>)> {
        let mut requirements: Vec<(String, Vec<&str>)> = Vec::new();
        for mapping in &self.mappings {
            for requirement in &mapping.requirements {
                let name = self.name(requirement);
                match requirements.iter_mut().find(|(known, _)| *known == name) {
                    Some((_, controls)) => controls.push(&mapping.control),
                    None => requirements.push((name, vec![&mapping.control])),
                }
            }
        }
        requirements.sort_by_cached_key(|(name, _)| natural_order(name));
        requirements
    }

    /// This framework's mapping for `control_id`, if the framework has one.
    fn mapping(&self, control_id: &str) -> Option<&Mapping> {
        self.mappings
            .iter()
            .find(|mapping| mapping.control == control_id)
    }
}

/// A part of a requirement id, for [`natural_order`].
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Chunk {
    Number(u64),
    Text(String),
}

/// `AU-6(1)` as `[Text("AU-"), Number(6), Text("("), Number(1), Text(")")]`: numbers compare as
/// numbers.
fn natural_order(id: &str) -> Vec<Chunk> {
    let mut chunks = Vec::new();
    let mut rest = id;
    while let Some(first) = rest.chars().next() {
        let digits = first.is_ascii_digit();
        let end = rest
            .find(|c: char| c.is_ascii_digit() != digits)
            .unwrap_or(rest.len());
        let (chunk, tail) = rest.split_at(end);
        chunks.push(match chunk.parse() {
            Ok(number) if digits => Chunk::Number(number),
            _ => Chunk::Text(chunk.to_string()),
        });
        rest = tail;
    }
    chunks
}

impl Control {
    /// The frameworks (besides CIS) this control's findings serve.
    pub fn frameworks(&self) -> Vec<&'static Framework> {
        frameworks()
            .iter()
            .filter(|framework| framework.mapping(self.id).is_some())
            .collect()
    }

    /// Every requirement a verdict decided under `chosen` serves: its CIS requirements
    /// ([`Control::related_requirements`]) first, then [`Control::framework_requirements`] —
    /// what a finding names in `Compliance.RelatedRequirements` and the OCSF compliance object.
    pub fn compliance_requirements(&self, chosen: CisVersion) -> Vec<String> {
        let mut requirements = self.related_requirements(chosen);
        requirements.extend(self.framework_requirements());
        requirements
    }

    /// The requirements of every framework (besides CIS) this control serves, named as Security
    /// Hub names them: `NIST.800-53.r5 AU-6(1)`, `PCI DSS v3.2.1/10.5.3`.
    pub fn framework_requirements(&self) -> Vec<String> {
        frameworks()
            .iter()
            .filter_map(|framework| {
                framework.mapping(self.id).map(|mapping| {
                    mapping
                        .requirements
                        .iter()
                        .map(|requirement| framework.name(requirement))
                        .collect::<Vec<_>>()
                })
            })
            .flatten()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controls::{catalog, control, declared};

    /// `Compliance.RelatedRequirements` holds at most 32 items (API_Compliance,
    /// https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_Compliance.html).
    const ASFF_RELATED_REQUIREMENTS_MAX: usize = 32;

    #[test]
    fn the_files_load_with_distinct_ids_and_prefixes() {
        let ids: Vec<&str> = frameworks().iter().map(|f| f.id.as_str()).collect();
        assert_eq!(ids, ["nist-800-53-r5", "nist-800-171-r2", "pci-dss-v3.2.1"]);
        for framework in frameworks() {
            assert!(!framework.title.is_empty());
            assert!(!framework.mappings.is_empty(), "{}", framework.id);
            let others = frameworks()
                .iter()
                .filter(|other| other.requirement_prefix == framework.requirement_prefix)
                .count();
            assert_eq!(others, 1, "{}", framework.id);
        }
    }

    #[test]
    fn every_mapping_names_a_known_control_its_security_hub_control_and_a_source() {
        for framework in frameworks() {
            for mapping in &framework.mappings {
                let what = format!("{} {}", framework.id, mapping.control);
                let control =
                    control(&mapping.control).unwrap_or_else(|| panic!("{what}: no such control"));
                assert_eq!(
                    control.security_hub,
                    Some(mapping.security_hub.as_str()),
                    "{what}: the source is another control's page"
                );
                assert!(mapping.source.starts_with("https://"), "{what}");
                let anchor = mapping.security_hub.to_ascii_lowercase().replace('.', "-");
                assert!(
                    mapping.source.ends_with(&format!("#{anchor}")),
                    "{what}: the source is the Security Hub control's own section"
                );
                assert!(!mapping.requirements.is_empty(), "{what}");
                for requirement in &mapping.requirements {
                    assert!(
                        !requirement.is_empty() && requirement.trim() == requirement,
                        "{what}: {requirement:?}"
                    );
                }
                let once = framework
                    .mappings
                    .iter()
                    .filter(|other| other.control == mapping.control)
                    .count();
                assert_eq!(once, 1, "{what}: one mapping per control and framework");
            }
        }
    }

    #[test]
    fn findings_name_at_most_what_asff_holds() {
        for control in catalog() {
            for version in CisVersion::all() {
                let all = control.compliance_requirements(version);
                assert!(all.len() <= ASFF_RELATED_REQUIREMENTS_MAX, "{}", control.id);
            }
        }
    }

    #[test]
    fn controls_name_the_requirements_their_security_hub_pages_give() {
        let root = control("root-usage").unwrap();
        assert_eq!(
            root.framework_requirements(),
            [
                "NIST.800-171.r2 3.14.6",
                "NIST.800-171.r2 3.14.7",
                "PCI DSS v3.2.1/7.2.1"
            ]
        );
        let delivery = control("trail-cw-logs").unwrap();
        let v2 = CisVersion::parse("2.0.0").unwrap();
        let named = delivery.compliance_requirements(v2);
        assert_eq!(named[0], "CIS AWS Foundations Benchmark v1.2.0/2.4");
        assert_eq!(named.len(), delivery.related_requirements(v2).len() + 20);
        let names = delivery.framework_requirements();
        assert_eq!(names.len(), 20);
        assert_eq!(names[0], "NIST.800-53.r5 AC-2(4)");
        assert_eq!(names[19], "PCI DSS v3.2.1/10.5.3");
        let titles: Vec<&str> = delivery
            .frameworks()
            .iter()
            .map(|f| f.title.as_str())
            .collect();
        assert_eq!(titles, ["NIST SP 800-53 Revision 5", "PCI DSS v3.2.1"]);
        // No page names a framework requirement for these.
        for id in ["console-signin-without-mfa", "organizations-changes"] {
            assert!(control(id).unwrap().framework_requirements().is_empty());
        }
        assert!(declared("scan-coverage")
            .unwrap()
            .framework_requirements()
            .is_empty());
    }

    #[test]
    fn a_framework_lists_each_requirement_once_with_every_control_serving_it() {
        let nist = Framework::parse(" NIST-800-171-R2 ").unwrap();
        let requirements = nist.requirements();
        let (_, serving) = requirements
            .iter()
            .find(|(name, _)| name == "NIST.800-171.r2 3.3.8")
            .unwrap();
        assert_eq!(serving, &["cloudtrail-changes", "config-changes"]);
        let names: Vec<&String> = requirements.iter().map(|(name, _)| name).collect();
        assert_eq!(
            names,
            [
                "NIST.800-171.r2 3.3.1",
                "NIST.800-171.r2 3.3.8",
                "NIST.800-171.r2 3.13.1",
                "NIST.800-171.r2 3.13.10",
                "NIST.800-171.r2 3.13.16",
                "NIST.800-171.r2 3.14.6",
                "NIST.800-171.r2 3.14.7"
            ]
        );
        let mut unique = names.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), names.len());
        let (_, both) = requirements
            .iter()
            .find(|(name, _)| name == "NIST.800-171.r2 3.14.6")
            .unwrap();
        assert_eq!(both.len(), 12);
    }

    #[test]
    fn an_unknown_framework_lists_the_known_ones() {
        let error = Framework::parse("iso-27001").unwrap_err();
        assert_eq!(
            error.to_string(),
            "unknown framework \"iso-27001\"; known: nist-800-53-r5, nist-800-171-r2, pci-dss-v3.2.1"
        );
    }
}
