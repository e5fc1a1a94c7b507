//! The function's configuration, read once per cold start from the environment `template.yaml`
//! sets: `TRAILWATCH_REGIONS`, `TRAILWATCH_CONTROLS`, `TRAILWATCH_CIS_VERSION`,
//! `TRAILWATCH_SECURITYHUB_REGION`, `TRAILWATCH_DRY_RUN`. The standard AWS environment (`AWS_REGION`, `AWS_ENDPOINT_URL`,
//! credentials) is the SDK configuration's business.

use super::errors::LambdaError;
use crate::controls::{self, CisVersion, Control};
use crate::run;

/// Comma list of regions to scan; unset or empty: the account's enabled regions.
pub const ENV_REGIONS: &str = "TRAILWATCH_REGIONS";
/// Comma list of control ids, or `default` / `all`; unset or empty: `default`.
pub const ENV_CONTROLS: &str = "TRAILWATCH_CONTROLS";
/// The CIS benchmark version (`7.0.0`, `v1.4.0`, `1.4`); unset or empty: the newest known.
pub const ENV_CIS_VERSION: &str = "TRAILWATCH_CIS_VERSION";
/// The Security Hub region to import into; unset or empty: the function's region.
pub const ENV_SECURITYHUB_REGION: &str = "TRAILWATCH_SECURITYHUB_REGION";
/// `true` to plan the import without calling `BatchImportFindings`.
pub const ENV_DRY_RUN: &str = "TRAILWATCH_DRY_RUN";

/// The function's configuration, from its environment.
#[derive(Debug, Clone)]
pub struct Config {
    /// `None`: the account's enabled regions.
    pub regions: Option<Vec<String>>,
    pub controls: Vec<&'static Control>,
    pub cis_version: CisVersion,
    /// `None`: the SDK configuration's region (the function's `AWS_REGION`).
    pub securityhub_region: Option<String>,
    pub dry_run: bool,
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, LambdaError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the configuration through `lookup` (a variable's value by name).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, LambdaError> {
        let value = |name: &str| {
            lookup(name)
                .map(|value| value.trim().to_string())
                .filter(|value| !value.is_empty())
        };
        let invalid = |name: &str, error: String| LambdaError::Config(format!("{name}: {error}"));
        let regions = value(ENV_REGIONS)
            .map(|list| run::region_names(list.split(',')))
            .transpose()
            .map_err(|error| invalid(ENV_REGIONS, error))?;
        let controls = controls::select(&value(ENV_CONTROLS).unwrap_or("default".into()))
            .map_err(|error| invalid(ENV_CONTROLS, error.to_string()))?;
        let cis_version = value(ENV_CIS_VERSION)
            .map(|text| CisVersion::parse(&text))
            .transpose()
            .map_err(|error| invalid(ENV_CIS_VERSION, error.to_string()))?
            .unwrap_or_else(CisVersion::newest);
        let securityhub_region = value(ENV_SECURITYHUB_REGION)
            .map(|region| run::region_names([region.as_str()]).map(|mut one| one.remove(0)))
            .transpose()
            .map_err(|error| invalid(ENV_SECURITYHUB_REGION, error))?;
        let dry_run = match value(ENV_DRY_RUN) {
            None => false,
            Some(text) => parse_bool(&text).ok_or_else(|| {
                invalid(ENV_DRY_RUN, format!("expected true or false, got {text:?}"))
            })?,
        };
        Ok(Config {
            regions,
            controls,
            cis_version,
            securityhub_region,
            dry_run,
        })
    }
}

/// `true`/`false` (also `1`/`0`, `yes`/`no`), any case.
fn parse_bool(text: &str) -> Option<bool> {
    match text.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Some(true),
        "false" | "0" | "no" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cis_version(value: Option<&str>) -> Result<String, String> {
        Config::from_lookup(|name| match name {
            ENV_CIS_VERSION => value.map(str::to_string),
            _ => None,
        })
        .map(|config| config.cis_version.to_string())
        .map_err(|error| error.to_string())
    }

    #[test]
    fn cis_version_defaults_to_the_newest_and_names_the_known_ones_when_wrong() {
        assert_eq!(cis_version(None), Ok("7.0.0".to_string()));
        assert_eq!(cis_version(Some(" ")), Ok("7.0.0".to_string()));
        assert_eq!(cis_version(Some("v1.4")), Ok("1.4.0".to_string()));
        assert_eq!(cis_version(Some("4.0.1")), Ok("4.0.1".to_string()));
        let error = cis_version(Some("2.1")).unwrap_err();
        assert!(
            error.contains("TRAILWATCH_CIS_VERSION: unknown CIS version \"2.1\"; known: 1.2.0,"),
            "{error}"
        );
    }
}
