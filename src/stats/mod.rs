//! What health is read from, after the log: the per-minute latency sketches and their counts,
//! written by the log's triggers (`sketch`), and the sequential tests that judge them
//! (`verdict`).
pub mod sketch;
pub mod verdict;
