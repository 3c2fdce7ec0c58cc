//! `--rate-limit N`: requests per second per API key, in bursts of up to 2N, with clients that
//! send no valid key limited per address (so guessing keys is limited too). governor's keyed
//! GCRA limiter holds one state per client; states back at rest are dropped now and then, so
//! that a stream of new addresses cannot grow the table without bound.

use crate::errors::ApiError;
use crate::http::Reply;
use governor::clock::{Clock, DefaultClock};
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How often states at rest are dropped from the table.
const SWEEP: Duration = Duration::from_secs(30);

/// Whom a request is counted against.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Client {
    Key(String),
    Address(IpAddr),
}

pub struct Limiter {
    per_second: u32,
    limiter: RateLimiter<Client, DefaultKeyedStateStore<Client>, DefaultClock>,
    next_sweep: Mutex<Instant>,
}

impl Limiter {
    pub fn new(per_second: u32) -> Limiter {
        let rate = NonZeroU32::new(per_second).expect("--rate-limit is at least 1");
        let burst = NonZeroU32::new(per_second.saturating_mul(2)).expect("twice a positive rate");
        Limiter {
            per_second,
            limiter: RateLimiter::keyed(Quota::per_second(rate).allow_burst(burst)),
            next_sweep: Mutex::new(Instant::now() + SWEEP),
        }
    }

    /// Counts one request of `client`: `Err(wait)` when it is over its limit, `wait` being
    /// how long until one more would be allowed.
    fn check(&self, client: &Client) -> Result<(), Duration> {
        self.sweep();
        self.limiter
            .check_key(client)
            .map_err(|not_until| not_until.wait_time_from(self.limiter.clock().now()))
    }

    /// Counts one request of the key named `key`, or of `peer` for a request without a valid
    /// key: the 429 answer, with Retry-After, when it is over the limit.
    pub fn admit(&self, key: Option<&str>, peer: IpAddr) -> Result<(), Reply> {
        let client = match key {
            Some(name) => Client::Key(name.to_owned()),
            None => Client::Address(peer),
        };
        self.check(&client).map_err(|wait| {
            let secs = retry_after_secs(wait);
            let whom = if key.is_some() {
                "this key"
            } else {
                "this address"
            };
            let e = ApiError::new(
                429,
                "RATE_LIMITED",
                format!(
                    "more than {} requests per second from {whom}; retry in {secs} s",
                    self.per_second
                ),
            );
            Reply::error(&e).with_header("Retry-After", secs.to_string())
        })
    }

    fn sweep(&self) {
        let Ok(mut next) = self.next_sweep.try_lock() else {
            return;
        };
        let now = Instant::now();
        if now < *next {
            return;
        }
        *next = now + SWEEP;
        drop(next);
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }
}

/// Retry-After's whole seconds: rounded up, and at least 1 (0 would invite a retry at once).
pub fn retry_after_secs(wait: Duration) -> u64 {
    wait.as_secs_f64().ceil().max(1.0) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bursts_of_twice_the_rate_per_client() {
        let limiter = Limiter::new(5);
        let a = Client::Key("a".into());
        let b = Client::Address("127.0.0.1".parse().unwrap());
        for _ in 0..10 {
            assert!(limiter.check(&a).is_ok());
        }
        let wait = limiter.check(&a).unwrap_err();
        assert!(wait <= Duration::from_millis(200), "{wait:?}");
        // Another client has its own allowance.
        assert!(limiter.check(&b).is_ok());
        std::thread::sleep(Duration::from_millis(250));
        assert!(limiter.check(&a).is_ok());
    }

    #[test]
    fn retry_after_rounds_up() {
        assert_eq!(retry_after_secs(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(1500)), 2);
    }
}
