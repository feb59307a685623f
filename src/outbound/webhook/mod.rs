//! Outbound webhooks: conversions (and broken links) pushed to an ad
//! platform's or a partner's endpoint.
//!
//! The pure half of the feature. An admin registers an endpoint
//! ([`NewEndpoint::parse`]) with the [`EventKind`]s it wants and a shared
//! secret. For every event the shell renders one payload ([`conversion_attributed`],
//! [`conversion_refunded`], [`link_broken`]): compact JSON, one envelope
//! `{"id","type","created","data"}`. It POSTs the body with
//! [`SIGNATURE_HEADER`] set to [`sign`]'s value, and feeds the answer (or the
//! network error) to [`outcome`], which says whether the delivery is done, is
//! retried at a given time ([`RetryPolicy`]: exponential back-off, capped at
//! [`MAX_DELAY_MS`], given up after 24 h by default) or is dead.
//!
//! Endpoint URLs may be `http` so that tests can use a local receiver;
//! production endpoints should be `https`, since the body (order ids, hashed
//! emails, revenue) is otherwise readable on the wire — the signature
//! authenticates it but does not hide it.
//!
//! **Signatures** are Stripe style: `X-Linkcredit-Signature:
//! t=<unix secs>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`. Binding the
//! timestamp into the MAC lets a receiver refuse replays of old deliveries.
//!
//! **How a receiver verifies** (what [`verify`] does): read the *raw* body
//! bytes, before any JSON parsing or re-encoding; split the header on `,`
//! into `k=v` pairs and take `t` and every `v1`; compute
//! HMAC-SHA256 with the endpoint secret as key over `t`, a `.`, then the raw
//! body, as lowercase hex; compare it with each `v1` in constant time (more
//! than one `v1` is sent while a secret is being rotated; any match passes);
//! reject the request if `t` is more than 5 minutes
//! ([`DEFAULT_TOLERANCE_SECS`]) from the receiver's clock. A delivery can
//! arrive more than once (a retry after a lost answer), so the receiver
//! should de-duplicate on the envelope's `id`, which stays the same across
//! retries.
//!
//! The core never reads the clock: every time is a `now` parameter.
//!
//! One job a file: `endpoints` (the event kinds and the registration of an
//! endpoint), `signature` (signing and verifying), `retry` (the back-off
//! and the outcome of an attempt) and `payloads` (the bodies sent).

mod endpoints;
mod payloads;
mod retry;
mod signature;

pub use endpoints::*;
pub use payloads::*;
pub use retry::*;
pub use signature::*;

/// The endpoint secret the children's tests register, sign and verify with.
#[cfg(test)]
const SECRET: &str = "whsec_0123456789abcdef";
