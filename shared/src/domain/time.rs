//! Time as whole seconds since the Unix epoch: the unit DynamoDB TTL uses, so stored values
//! and the code's comparisons agree without conversions.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub fn now() -> Self {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        Self(i64::try_from(secs).unwrap_or(i64::MAX))
    }

    pub fn plus_secs(self, secs: i64) -> Self {
        Self(self.0.saturating_add(secs))
    }

    /// RFC 3339 in UTC, for emails, audit lines and the CLI.
    pub fn to_rfc3339(self) -> String {
        chrono::DateTime::from_timestamp(self.0, 0)
            .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
            .unwrap_or_default()
    }

    /// Milliseconds since the epoch as RFC 3339 with milliseconds: events of the same
    /// second still read in order.
    pub fn millis_to_rfc3339(millis: i64) -> String {
        chrono::DateTime::from_timestamp_millis(millis)
            .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
            .unwrap_or_default()
    }

    /// A human date for emails, e.g. "Tuesday 24 November 2026, 17:16 UTC".
    pub fn to_human(self) -> String {
        chrono::DateTime::from_timestamp(self.0, 0)
            .map(|t| t.format("%A %-d %B %Y, %H:%M UTC").to_string())
            .unwrap_or_default()
    }
}

pub const MINUTE: i64 = 60;
pub const HOUR: i64 = 60 * MINUTE;
pub const DAY: i64 = 24 * HOUR;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_format_in_utc() {
        let t = Timestamp(1_795_000_000);
        assert_eq!(t.to_rfc3339(), "2026-11-18T11:06:40Z");
        assert_eq!(t.to_human(), "Wednesday 18 November 2026, 11:06 UTC");
    }
}
