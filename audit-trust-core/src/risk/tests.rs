//! Tests of the risk signals.
