//! The CIS AWS Foundations Benchmark versions trailwatch knows, as data.
//!
//! One mapping file per version, `cis/v<version>.json`: the requirements trailwatch decides, each
//! with the control that decides it, its number in that version and, for a monitoring control,
//! the filter pattern that version prescribes. The files are compiled in and parsed once; the
//! unit tests check that every control id exists and every pattern parses. Where the pattern
//! texts come from, and what was chosen where transcriptions disagree: `cis/README.md`.

use serde::Deserialize;
use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

/// The mapping files, oldest version first.
const FILES: &[&str] = &[
    include_str!("cis/v1.2.0.json"),
    include_str!("cis/v1.3.0.json"),
    include_str!("cis/v1.4.0.json"),
    include_str!("cis/v1.5.0.json"),
    include_str!("cis/v2.0.0.json"),
    include_str!("cis/v3.0.0.json"),
    include_str!("cis/v4.0.1.json"),
    include_str!("cis/v5.0.0.json"),
    include_str!("cis/v6.0.0.json"),
    include_str!("cis/v7.0.0.json"),
];

/// One benchmark version's mapping file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Benchmark {
    /// `1.4.0`.
    pub version: String,
    /// `CIS Amazon Web Services Foundations Benchmark v1.4.0`.
    pub title: String,
    pub requirements: Vec<Requirement>,
}

/// A requirement of one version and the control that decides it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Requirement {
    /// The requirement's number in this version, e.g. `4.5`.
    pub id: String,
    /// The trailwatch control id.
    pub control: String,
    /// The filter pattern this version prescribes (monitoring controls only).
    #[serde(default)]
    pub pattern: Option<String>,
    /// Where the text comes from (abbreviations: `cis/README.md`).
    pub source: String,
}

/// Every known version, oldest first, parsed on first use.
pub fn benchmarks() -> &'static [Benchmark] {
    static PARSED: OnceLock<Vec<Benchmark>> = OnceLock::new();
    PARSED.get_or_init(|| {
        FILES
            .iter()
            .map(|text| {
                serde_json::from_str(text)
                    .unwrap_or_else(|error| panic!("a cis/*.json mapping file is invalid: {error}"))
            })
            .collect()
    })
}

/// A benchmark version trailwatch has a mapping for; `Display` gives `1.4.0`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CisVersion(usize);

impl CisVersion {
    /// The newest known version: the default.
    pub fn newest() -> CisVersion {
        CisVersion(benchmarks().len() - 1)
    }

    /// Every known version, oldest first.
    pub fn all() -> impl Iterator<Item = CisVersion> {
        (0..benchmarks().len()).map(CisVersion)
    }

    pub fn benchmark(self) -> &'static Benchmark {
        &benchmarks()[self.0]
    }

    /// `1.4.0`.
    pub fn as_str(self) -> &'static str {
        &self.benchmark().version
    }

    /// Position among the known versions, oldest first.
    pub(super) fn index(self) -> usize {
        self.0
    }

    /// The requirement this version decides with `control_id`, if it has one.
    pub fn requirement(self, control_id: &str) -> Option<&'static Requirement> {
        self.benchmark()
            .requirements
            .iter()
            .find(|requirement| requirement.control == control_id)
    }

    /// `1.4.0`, `v1.4.0` or `1.4` (major.minor, when one known version has it).
    pub fn parse(text: &str) -> Result<CisVersion, UnknownVersion> {
        let given = text.trim();
        let bare = given.strip_prefix(['v', 'V']).unwrap_or(given);
        let parts: Vec<&str> = bare.split('.').collect();
        let numeric = parts
            .iter()
            .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()));
        let candidates: Vec<CisVersion> = match parts.len() {
            3 if numeric => CisVersion::all().filter(|v| v.as_str() == bare).collect(),
            2 if numeric => CisVersion::all()
                .filter(|v| v.as_str().starts_with(&format!("{bare}.")))
                .collect(),
            _ => Vec::new(),
        };
        match candidates.as_slice() {
            [one] => Ok(*one),
            _ => Err(UnknownVersion {
                given: given.to_string(),
                known: known_versions(),
            }),
        }
    }
}

/// The known versions, comma-separated: `1.2.0, 1.3.0, …`.
pub fn known_versions() -> String {
    CisVersion::all()
        .map(CisVersion::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}

impl fmt::Display for CisVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for CisVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CisVersion({})", self.as_str())
    }
}

impl FromStr for CisVersion {
    type Err = UnknownVersion;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        CisVersion::parse(text)
    }
}

/// A version spelling that names no known version.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown CIS version {given:?}; known: {known}")]
pub struct UnknownVersion {
    pub given: String,
    pub known: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_the_ten_benchmarks_oldest_first_and_match_their_titles() {
        let names: Vec<&str> = CisVersion::all().map(CisVersion::as_str).collect();
        assert_eq!(
            names,
            [
                "1.2.0", "1.3.0", "1.4.0", "1.5.0", "2.0.0", "3.0.0", "4.0.1", "5.0.0", "6.0.0",
                "7.0.0"
            ]
        );
        for version in CisVersion::all() {
            assert_eq!(
                version.benchmark().title,
                format!("CIS Amazon Web Services Foundations Benchmark v{version}")
            );
        }
        assert_eq!(CisVersion::newest().as_str(), "7.0.0");
    }

    #[test]
    fn spellings_resolve_and_unknown_ones_list_the_known() {
        for (text, expected) in [
            ("1.4.0", "1.4.0"),
            ("v1.4.0", "1.4.0"),
            ("1.4", "1.4.0"),
            (" V5.0 ", "5.0.0"),
            ("4.0", "4.0.1"),
            ("4.0.1", "4.0.1"),
        ] {
            assert_eq!(
                CisVersion::parse(text).map(|v| v.as_str()),
                Ok(expected),
                "{text}"
            );
        }
        for bad in [
            "1.1.0", "4.0.0", "8", "1", "v", "", "1.4.0.0", "one.four", "7.0.x",
        ] {
            let error = CisVersion::parse(bad).unwrap_err();
            assert_eq!(error.given, bad.trim());
            assert_eq!(
                error.to_string(),
                format!(
                    "unknown CIS version {:?}; known: 1.2.0, 1.3.0, 1.4.0, 1.5.0, 2.0.0, 3.0.0, 4.0.1, 5.0.0, 6.0.0, 7.0.0",
                    bad.trim()
                )
            );
        }
    }

    #[test]
    fn requirement_ids_and_controls_are_unique_per_version() {
        for version in CisVersion::all() {
            let requirements = &version.benchmark().requirements;
            for (n, requirement) in requirements.iter().enumerate() {
                assert!(
                    requirements[..n]
                        .iter()
                        .all(|r| r.id != requirement.id && r.control != requirement.control),
                    "v{version}: {} / {} listed twice",
                    requirement.id,
                    requirement.control
                );
                assert!(
                    !requirement.source.is_empty(),
                    "v{version} {}",
                    requirement.id
                );
            }
        }
    }
}
