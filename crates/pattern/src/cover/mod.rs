//! Coverage analysis (in progress).

/// The answer of [`covers`].
#[derive(Debug, Clone, PartialEq)]
pub enum Coverage {
    /// Every event `required` matches, `customer` matches too.
    Covers,
    /// An event `required` matches and `customer` does not.
    DoesNotCover {
        /// The event.
        counterexample: serde_json::Value,
    },
    /// No sound answer could be given.
    Unknown {
        /// Why.
        reason: String,
    },
}

/// Whether `customer` matches every event `required` matches.
pub fn covers(_customer: &crate::FilterPattern, _required: &crate::FilterPattern) -> Coverage {
    Coverage::Unknown { reason: "todo".into() }
}
