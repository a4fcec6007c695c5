//! Unit tests for classification. Expected counts were worked out by hand from the sources.

mod fuzz;
mod lexer;
mod manifest;
mod path_attr;
mod scan;
