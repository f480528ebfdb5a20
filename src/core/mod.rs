//! The pure wing: no pgrx, no SQL, no backend state. What is here is plain Rust over plain
//! values (words of a message, buckets, the rollout settings, sketches' maths), which a second
//! host could share; scripts/module_graph.py checks that nothing here names pgrx outside its
//! tests.
pub mod bucket;
pub mod config;
pub mod ddsketch;
pub mod detect;
pub mod message;
pub mod text;
