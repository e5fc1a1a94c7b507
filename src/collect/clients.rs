//! SDK clients, built once per service and region, sharing one retry policy and one request
//! counter (`crate::requests`) — also with the clients of other accounts the same collection reads.
//!
//! Every client is configured from the caller's `SdkConfig` (credentials, endpoint override such
//! as `AWS_ENDPOINT_URL`) with its region replaced, the standard retry mode with more attempts than
//! the default (the CloudTrail and CloudWatch read APIs throttle at around 10 TPS), and an
//! interceptor that counts every HTTP request sent — so retries count: the number is what the
//! account's API rate limits saw.

use crate::model::snapshot::{EncryptionKey, Fetched};
use crate::requests::RequestCounter;
use aws_config::retry::RetryConfig;
use aws_config::{Region, SdkConfig};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use tokio::sync::OnceCell;

/// Attempts per call, throttling retries included (the SDK default is 3).
const MAX_ATTEMPTS: u32 = 6;

/// One client per region for one service.
struct PerRegion<C>(Mutex<HashMap<String, C>>);

impl<C: Clone> PerRegion<C> {
    fn new() -> Self {
        PerRegion(Mutex::new(HashMap::new()))
    }

    fn get(&self, region: &str, build: impl FnOnce() -> C) -> C {
        let mut clients = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        clients
            .entry(region.to_string())
            .or_insert_with(build)
            .clone()
    }
}

/// The clients of one collection.
pub(crate) struct Clients {
    sdk: SdkConfig,
    counter: RequestCounter,
    retry: RetryConfig,
    cloudtrail: PerRegion<aws_sdk_cloudtrail::Client>,
    logs: PerRegion<aws_sdk_cloudwatchlogs::Client>,
    cloudwatch: PerRegion<aws_sdk_cloudwatch::Client>,
    sns: PerRegion<aws_sdk_sns::Client>,
    kms: PerRegion<aws_sdk_kms::Client>,
    /// Encryption keys read so far, by the id a topic names them with: several topics may share
    /// one key, which is read once.
    pub(crate) keys: KeyReads,
}

/// One read per KMS key (DescribeKey and GetKeyPolicy), however many topics it encrypts.
pub(crate) type KeyReads = Mutex<HashMap<String, Arc<OnceCell<Fetched<EncryptionKey>>>>>;

/// Builds a client of one service for `region` from `$clients`' shared settings.
macro_rules! build_client {
    ($clients:expr, $service:ident, $region:expr) => {{
        let config = $service::config::Builder::from(&$clients.sdk)
            .region(Region::new($region.to_string()))
            .retry_config($clients.retry.clone())
            .interceptor($clients.counter.clone())
            .build();
        $service::Client::from_conf(config)
    }};
}

impl Clients {
    pub(crate) fn new(sdk: &SdkConfig) -> Self {
        Self::counting_into(sdk, RequestCounter::default())
    }

    /// Clients for another account's credentials whose calls count with this collection's.
    pub(crate) fn for_credentials(&self, sdk: &SdkConfig) -> Self {
        Self::counting_into(sdk, self.counter.clone())
    }

    fn counting_into(sdk: &SdkConfig, counter: RequestCounter) -> Self {
        Clients {
            sdk: sdk.clone(),
            counter,
            retry: RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS),
            cloudtrail: PerRegion::new(),
            logs: PerRegion::new(),
            cloudwatch: PerRegion::new(),
            sns: PerRegion::new(),
            kms: PerRegion::new(),
            keys: Mutex::default(),
        }
    }

    /// Requests sent so far by every client of this collection.
    pub(crate) fn api_calls(&self) -> u64 {
        self.counter.total()
    }

    /// Requests sent so far, per `service:Operation`.
    pub(crate) fn api_calls_by_operation(&self) -> BTreeMap<String, u64> {
        self.counter.by_operation()
    }

    /// The region of the caller's configuration, where global calls (STS, Account) go.
    pub(crate) fn home_region(&self) -> Option<String> {
        self.sdk.region().map(|region| region.to_string())
    }

    /// The endpoint every client is sent to, when one is configured (`AWS_ENDPOINT_URL`).
    pub(crate) fn endpoint_url(&self) -> Option<&str> {
        self.sdk.endpoint_url()
    }

    pub(crate) fn organizations(&self, region: &str) -> aws_sdk_organizations::Client {
        build_client!(self, aws_sdk_organizations, region)
    }

    pub(crate) fn sts(&self, region: &str) -> aws_sdk_sts::Client {
        build_client!(self, aws_sdk_sts, region)
    }

    pub(crate) fn account(&self, region: &str) -> aws_sdk_account::Client {
        build_client!(self, aws_sdk_account, region)
    }

    pub(crate) fn cloudtrail(&self, region: &str) -> aws_sdk_cloudtrail::Client {
        self.cloudtrail
            .get(region, || build_client!(self, aws_sdk_cloudtrail, region))
    }

    pub(crate) fn logs(&self, region: &str) -> aws_sdk_cloudwatchlogs::Client {
        self.logs.get(region, || {
            build_client!(self, aws_sdk_cloudwatchlogs, region)
        })
    }

    pub(crate) fn cloudwatch(&self, region: &str) -> aws_sdk_cloudwatch::Client {
        self.cloudwatch
            .get(region, || build_client!(self, aws_sdk_cloudwatch, region))
    }

    /// One DescribeHub per region: not kept.
    pub(crate) fn securityhub(&self, region: &str) -> aws_sdk_securityhub::Client {
        build_client!(self, aws_sdk_securityhub, region)
    }

    pub(crate) fn sns(&self, region: &str) -> aws_sdk_sns::Client {
        self.sns
            .get(region, || build_client!(self, aws_sdk_sns, region))
    }

    pub(crate) fn kms(&self, region: &str) -> aws_sdk_kms::Client {
        self.kms
            .get(region, || build_client!(self, aws_sdk_kms, region))
    }
}
