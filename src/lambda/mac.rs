//! The queue messages' authentication code: the coordinator seals each account message with a
//! KMS HMAC key only the function's role may use (template.yaml, `MessageMacKey`), and a worker
//! verifies the seal before it trusts anything the message says — its account, its run, the
//! organization trails' chains it carries.
//!
//! What is sealed is the message body exactly as sent (its bytes, not a re-serialization: no
//! canonical form to disagree on). KMS takes a message of at most 4,096 bytes and does nothing
//! special with digests, so the MAC is computed over the body's SHA-256 digest and verified over
//! the digest of the body received
//! (https://docs.aws.amazon.com/kms/latest/APIReference/API_GenerateMac.html, `Message`). The
//! MAC travels beside the body as the message attribute [`MAC_ATTRIBUTE`] (attributes count
//! toward the message size:
//! https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-message-attributes.html),
//! and Lambda hands it to the worker in the record's `messageAttributes`
//! (https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html). VerifyMac answers a MAC that
//! does not match the digest, key and algorithm with `KMSInvalidMacException`
//! (https://docs.aws.amazon.com/kms/latest/APIReference/API_VerifyMac.html).

use aws_sdk_kms::operation::verify_mac::VerifyMacError;
use aws_sdk_kms::types::MacAlgorithmSpec;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::Blob;
use sha2::{Digest, Sha256};

/// The message attribute that carries a message's MAC (base64).
pub const MAC_ATTRIBUTE: &str = "trailwatch-mac";
/// The attribute's SQS data type.
pub const MAC_DATA_TYPE: &str = "String";
/// The HMAC algorithm of the key's spec (HMAC_256).
const ALGORITHM: MacAlgorithmSpec = MacAlgorithmSpec::HmacSha256;
/// The length of its MAC.
const MAC_BYTES: usize = 32;

/// Why a message's MAC was not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unverified {
    /// The message is not what the coordinator sealed (no MAC, a malformed one, or one KMS
    /// says does not match): it is refused.
    Refused(String),
    /// KMS could not answer (throttled, unreachable, the key disabled): nothing is trusted this
    /// time; another delivery may be verified.
    Unanswered(String),
}

/// The stack's HMAC key, for sealing and verifying account messages.
#[derive(Debug, Clone)]
pub struct MessageKey {
    client: aws_sdk_kms::Client,
    key_id: String,
}

impl MessageKey {
    pub fn new(sdk: &aws_config::SdkConfig, key_id: &str) -> Self {
        MessageKey {
            client: aws_sdk_kms::Client::new(sdk),
            key_id: key_id.to_string(),
        }
    }

    /// The MAC of `body` (base64, for [`MAC_ATTRIBUTE`]); `Err` says why KMS gave none.
    pub async fn seal(&self, body: &str) -> Result<String, String> {
        let output = self
            .client
            .generate_mac()
            .key_id(&self.key_id)
            .mac_algorithm(ALGORITHM)
            .message(Blob::new(digest(body)))
            .send()
            .await
            .map_err(|error| {
                format!(
                    "kms:GenerateMac with {} failed: {}",
                    self.key_id,
                    DisplayErrorContext(&error)
                )
            })?;
        output
            .mac()
            .map(|mac| aws_smithy_types::base64::encode(mac.as_ref()))
            .ok_or_else(|| format!("kms:GenerateMac with {} returned no MAC", self.key_id))
    }

    /// `Ok` when `mac` (the record's [`MAC_ATTRIBUTE`], `None` when absent) is the MAC the
    /// stack's key gives `body`.
    pub async fn verify(&self, body: &str, mac: Option<&str>) -> Result<(), Unverified> {
        let Some(mac) = mac else {
            return Err(Unverified::Refused(format!(
                "the message has no {MAC_ATTRIBUTE} attribute: not sealed by the coordinator"
            )));
        };
        let mac = aws_smithy_types::base64::decode(mac).map_err(|_| {
            Unverified::Refused(format!("the message's {MAC_ATTRIBUTE} is not base64"))
        })?;
        if mac.len() != MAC_BYTES {
            return Err(Unverified::Refused(format!(
                "the message's {MAC_ATTRIBUTE} is {} bytes, not the {MAC_BYTES} of an HMAC-SHA-256",
                mac.len()
            )));
        }
        let verified = self
            .client
            .verify_mac()
            .key_id(&self.key_id)
            .mac_algorithm(ALGORITHM)
            .message(Blob::new(digest(body)))
            .mac(Blob::new(mac))
            .send()
            .await;
        match verified {
            Ok(output) if output.mac_valid() => Ok(()),
            Ok(_) => Err(Unverified::Refused(format!(
                "kms:VerifyMac with {} says the MAC is not valid",
                self.key_id
            ))),
            Err(error) => match error.as_service_error() {
                Some(VerifyMacError::KmsInvalidMacException(_)) => Err(Unverified::Refused(format!(
                    "the message's MAC does not verify with {} (KMSInvalidMacException): the message was altered, or not sealed by the coordinator",
                    self.key_id
                ))),
                _ => Err(Unverified::Unanswered(format!(
                    "kms:VerifyMac with {} failed: {}",
                    self.key_id,
                    DisplayErrorContext(&error)
                ))),
            },
        }
    }
}

/// What KMS sees of a body: its SHA-256 digest (a body may be far over KMS's 4,096 bytes).
fn digest(body: &str) -> Vec<u8> {
    Sha256::digest(body.as_bytes()).to_vec()
}

/// The bytes the MAC attribute adds to a message, as SQS counts them: its name, data type and
/// value (the base64 of [`MAC_BYTES`] bytes, 44 characters).
pub const ATTRIBUTE_BYTES: usize =
    MAC_ATTRIBUTE.len() + MAC_DATA_TYPE.len() + MAC_BYTES.div_ceil(3) * 4;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_digest_is_of_the_exact_bytes() {
        let body = r#"{"kind":"trailwatch.scan-account"}"#;
        assert_eq!(digest(body).len(), 32);
        assert_eq!(digest(body), digest(body));
        // A re-serialization with other whitespace is another message.
        assert_ne!(
            digest(body),
            digest(r#"{"kind": "trailwatch.scan-account"}"#)
        );
        let mac = aws_smithy_types::base64::encode([7u8; MAC_BYTES]);
        assert_eq!(
            ATTRIBUTE_BYTES,
            MAC_ATTRIBUTE.len() + MAC_DATA_TYPE.len() + mac.len()
        );
    }
}
