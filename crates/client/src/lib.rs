//! Client library: typed calls to the gateway and to CNOUS-shaped CVEC APIs, on reqwest (rustls).

pub mod breaker;
pub mod cache;
pub mod cvec;

#[cfg(feature = "gateway")]
pub mod gateway;
