//! Scenario tests: see fixture.rs
