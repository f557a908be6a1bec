//! A circuit breaker for a remote dependency: after `threshold` consecutive failures the circuit
//! opens and calls fail at once for `cooldown`; then one probe call is let through (half-open):
//! its success closes the circuit, its failure opens it again for another `cooldown`.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// The breaker's state, for metrics and health reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    /// Calls go through.
    Closed,
    /// Calls fail at once.
    Open,
    /// One probe call is in flight; the others fail at once.
    HalfOpen,
}

impl BreakerState {
    /// `closed`, `open` or `half_open`.
    pub fn as_str(self) -> &'static str {
        match self {
            BreakerState::Closed => "closed",
            BreakerState::Open => "open",
            BreakerState::HalfOpen => "half_open",
        }
    }
}

#[derive(Debug)]
enum Inner {
    Closed { failures: u32 },
    Open { until: Instant },
    HalfOpen { probe_since: Instant },
}

/// Counts consecutive failures and decides whether a call may go out.
#[derive(Debug)]
pub struct CircuitBreaker {
    threshold: u32,
    cooldown: Duration,
    inner: Mutex<Inner>,
}

impl CircuitBreaker {
    /// A closed breaker. `threshold` 0 disables it (it never opens).
    pub fn new(threshold: u32, cooldown: Duration) -> Self {
        CircuitBreaker {
            threshold,
            cooldown,
            inner: Mutex::new(Inner::Closed { failures: 0 }),
        }
    }

    /// `Ok(())` when a call may go out now (in the half-open state, the caller is the probe);
    /// `Err(remaining)` with the time until the next probe when the circuit is open.
    pub fn try_acquire(&self) -> Result<(), Duration> {
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        match *inner {
            Inner::Closed { .. } => Ok(()),
            Inner::Open { until } if now >= until => {
                *inner = Inner::HalfOpen { probe_since: now };
                Ok(())
            }
            Inner::Open { until } => Err(until - now),
            // A probe that never reported (its caller went away) is replaced after a cool-down.
            Inner::HalfOpen { probe_since } if now >= probe_since + self.cooldown => {
                *inner = Inner::HalfOpen { probe_since: now };
                Ok(())
            }
            Inner::HalfOpen { probe_since } => Err(probe_since + self.cooldown - now),
        }
    }

    /// The call succeeded: the circuit closes.
    pub fn record_success(&self) {
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        *inner = Inner::Closed { failures: 0 };
    }

    /// The call failed: one more consecutive failure; the circuit opens at the threshold, or
    /// again at once after a failed probe.
    pub fn record_failure(&self) {
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        *inner = match *inner {
            Inner::Closed { failures } => {
                let failures = failures.saturating_add(1);
                if self.threshold > 0 && failures >= self.threshold {
                    Inner::Open {
                        until: now + self.cooldown,
                    }
                } else {
                    Inner::Closed { failures }
                }
            }
            Inner::HalfOpen { .. } | Inner::Open { .. } => Inner::Open {
                until: now + self.cooldown,
            },
        };
    }

    /// The current state (an open circuit whose cool-down has passed reports `HalfOpen`: the
    /// next call will be the probe).
    pub fn state(&self) -> BreakerState {
        let inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        match *inner {
            Inner::Closed { .. } => BreakerState::Closed,
            Inner::Open { until } if Instant::now() < until => BreakerState::Open,
            Inner::Open { .. } | Inner::HalfOpen { .. } => BreakerState::HalfOpen,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_the_threshold_and_recovers_after_a_good_probe() {
        let breaker = CircuitBreaker::new(3, Duration::from_millis(40));
        for _ in 0..2 {
            assert_eq!(breaker.try_acquire(), Ok(()));
            breaker.record_failure();
        }
        assert_eq!(breaker.state(), BreakerState::Closed);
        breaker.record_failure();
        assert_eq!(breaker.state(), BreakerState::Open);
        assert!(
            breaker
                .try_acquire()
                .is_err_and(|d| d <= Duration::from_millis(40))
        );
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(breaker.try_acquire(), Ok(()), "the probe goes out");
        assert!(breaker.try_acquire().is_err(), "one probe at a time");
        breaker.record_success();
        assert_eq!(breaker.state(), BreakerState::Closed);
        assert_eq!(breaker.try_acquire(), Ok(()));
    }

    #[test]
    fn a_failed_probe_opens_again_and_a_success_resets_the_count() {
        let breaker = CircuitBreaker::new(2, Duration::from_millis(30));
        breaker.record_failure();
        breaker.record_success();
        breaker.record_failure();
        assert_eq!(breaker.state(), BreakerState::Closed, "not consecutive");
        breaker.record_failure();
        assert_eq!(breaker.state(), BreakerState::Open);
        std::thread::sleep(Duration::from_millis(40));
        assert_eq!(breaker.try_acquire(), Ok(()));
        breaker.record_failure();
        assert_eq!(breaker.state(), BreakerState::Open);
        assert!(breaker.try_acquire().is_err());
    }

    #[test]
    fn a_lost_probe_is_replaced_after_a_cool_down() {
        let breaker = CircuitBreaker::new(1, Duration::from_millis(30));
        breaker.record_failure();
        std::thread::sleep(Duration::from_millis(40));
        assert_eq!(breaker.try_acquire(), Ok(()));
        std::thread::sleep(Duration::from_millis(40));
        assert_eq!(breaker.try_acquire(), Ok(()));
    }

    #[test]
    fn threshold_zero_never_opens() {
        let breaker = CircuitBreaker::new(0, Duration::from_secs(60));
        for _ in 0..100 {
            breaker.record_failure();
        }
        assert_eq!(breaker.try_acquire(), Ok(()));
    }
}
