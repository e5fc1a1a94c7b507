//! Pacing calls to an API's documented rate: a token bucket.

use std::time::{Duration, Instant};

/// A token bucket: on average `per_second` calls a second, with bursts of as many.
///
/// [`Pacer::reserve`] is the pure part (it takes the time as an argument and returns how long to
/// wait), [`Pacer::wait`] sleeps for it.
#[derive(Debug, Clone)]
pub struct Pacer {
    per_second: f64,
    burst: f64,
    tokens: f64,
    updated: Option<Instant>,
}

impl Pacer {
    /// A bucket that starts full; `per_second` below 0.001 counts as 0.001.
    pub fn new(per_second: f64) -> Self {
        let per_second = per_second.max(0.001);
        let burst = per_second.floor().max(1.0);
        Pacer {
            per_second,
            burst,
            tokens: burst,
            updated: None,
        }
    }

    /// Takes a token at `now`; returns how long the caller must wait before its call.
    pub fn reserve(&mut self, now: Instant) -> Duration {
        if let Some(updated) = self.updated {
            let elapsed = now.saturating_duration_since(updated).as_secs_f64();
            self.tokens = (self.tokens + elapsed * self.per_second).min(self.burst);
        }
        self.updated = Some(self.updated.map_or(now, |updated| updated.max(now)));
        self.tokens -= 1.0;
        if self.tokens >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-self.tokens / self.per_second)
        }
    }

    /// Waits until a call is allowed.
    pub async fn wait(&mut self) {
        let delay = self.reserve(Instant::now());
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pacer_spaces_calls_beyond_the_burst() {
        let start = Instant::now();
        let mut pacer = Pacer::new(10.0);
        let waits: Vec<u128> = (0..12).map(|_| pacer.reserve(start).as_millis()).collect();
        assert_eq!(&waits[..10], &[0; 10]);
        assert_eq!(&waits[10..], &[100, 200]);
        // A second later the debt is paid and eight tokens have come back.
        let later = start + Duration::from_secs(1);
        let waits: Vec<u128> = (0..9).map(|_| pacer.reserve(later).as_millis()).collect();
        assert_eq!(&waits[..8], &[0; 8]);
        assert_eq!(waits[8], 100);
    }

    #[test]
    fn pacer_keeps_a_steady_rate() {
        let start = Instant::now();
        let mut pacer = Pacer::new(3.0);
        let mut now = start;
        let mut calls = 0;
        // Call as soon as allowed for ten seconds: at most the burst plus 3 a second.
        while now < start + Duration::from_secs(10) {
            now += pacer.reserve(now);
            calls += 1;
        }
        assert!(calls <= 3 + 30 + 1, "{calls} calls");
        assert!(calls >= 30, "{calls} calls");
    }
}
