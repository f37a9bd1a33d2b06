//! Helpers shared by integration tests that include this module with `mod common;`.

pub mod axiomatic;
pub mod corpus;
