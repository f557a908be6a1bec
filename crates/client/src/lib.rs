//! Client library: typed calls to the gateway and to CNOUS-shaped CVEC APIs, on reqwest (rustls).
