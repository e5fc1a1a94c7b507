//! Which credentials read which account: the one place a collector asks before it reads a
//! resource that belongs to some account (a trail's log group, an alarm's topic), and the one
//! [`ReadErrorKind::OtherAccount`] read error when no credentials of this scan reach it.
//!
//! A single-account scan reads the account of its own credentials only; anything in another
//! account is recorded as unreadable with the account's id, never as "absent".

use super::clients::Clients;
use crate::model::snapshot::{ReadError, ReadErrorKind};

/// The accounts a scan can read, and with which clients.
pub(crate) struct Access<'a> {
    /// The scanned account, read with the scan's own credentials.
    scanned_account: &'a str,
    own: &'a Clients,
}

/// No credentials of this scan reach an account.
pub(crate) struct NoAccess {
    account_id: String,
    scanned_account: String,
}

impl<'a> Access<'a> {
    pub(crate) fn new(scanned_account: &'a str, own: &'a Clients) -> Self {
        Access {
            scanned_account,
            own,
        }
    }

    /// The clients that read `account_id`.
    pub(crate) fn clients_for(&self, account_id: &str) -> Result<&'a Clients, NoAccess> {
        if account_id == self.scanned_account {
            Ok(self.own)
        } else {
            Err(NoAccess {
                account_id: account_id.to_string(),
                scanned_account: self.scanned_account.to_string(),
            })
        }
    }
}

impl NoAccess {
    /// The read error of `operation` on `resource` (`what` names it in the message, e.g.
    /// "log group CloudTrail/org").
    pub(crate) fn read_error(
        &self,
        operation: &str,
        region: &str,
        resource: &str,
        what: &str,
    ) -> ReadError {
        ReadError {
            operation: operation.to_string(),
            region: region.to_string(),
            resource: Some(resource.to_string()),
            kind: ReadErrorKind::OtherAccount,
            code: None,
            message: format!(
                "{what} is in account {}; this scan reads account {} only",
                self.account_id, self.scanned_account
            ),
        }
    }
}
